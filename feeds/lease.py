"""Which clock is active: a lease held through the database (pure decisions, ``now`` given).

Any number of clock processes (``feeds scheduler``, the clock of ``feeds run``) may run
against one database. Each writes a heartbeat every HEARTBEAT_SECONDS; in the same write
transaction (writers exclude one another: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
lock) it decides whether it holds the lease:

- a clock holds the lease when no other clock marked active has a heartbeat younger than
  LEASE; one that held it keeps it by renewing it within LEASE;
- an active clock whose process is known dead (same host, no such pid) holds nothing;
- an active clock that has not renewed its lease for FENCE (a database it cannot reach, a
  partition) stops fetching and publishing on its own, well before LEASE lets a standby take
  over (FENCE < LEASE - one heartbeat);
- a standby taking over from a clock that did not stop cleanly waits one fetch deadline
  before fetching what is due, so a fetch the old clock began cannot be made twice.

Times are the clocks' own (UTC): the machines' clocks must agree to within a few seconds
(NTP), as for any lease.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.types import HEARTBEAT_SECONDS, ClockBeat

LEASE = timedelta(seconds=4 * HEARTBEAT_SECONDS)  # silence after which a standby takes over
FENCE = timedelta(seconds=2 * HEARTBEAT_SECONDS)  # unrenewed: the active clock stops itself


@dataclass(frozen=True)
class LeaseDecision:
    """What one heartbeat decided for clock ``me``."""

    active: bool
    holder: ClockBeat | None  # the other clock holding the lease (None when we do, or none)
    taken_from: ClockBeat | None  # the clock whose lease ran out or died, when we take over


def decide(
    beats: Sequence[ClockBeat],
    me: str,
    host: str,
    now: datetime,
    *,
    alive: Callable[[int], bool],
) -> LeaseDecision:
    """Whether clock ``me`` (on ``host``) holds the lease at ``now``, given every clock's row
    as stored before this heartbeat; ``alive(pid)`` says whether a process of this host
    lives."""
    mine = next((b for b in beats if b.id == me), None)
    held = mine is not None and mine.active and now - mine.heartbeat < LEASE
    others = [b for b in beats if b.id != me and b.active]
    valid = [b for b in others if now - b.heartbeat < LEASE and not _dead_here(b, host, alive)]
    if valid:
        if held and mine is not None:
            # Two claims at once (only when the machines' clocks disagree): every clock picks
            # the same winner, the one that started first.
            winner = min([mine, *valid], key=lambda b: (b.started, b.id))
            if winner is mine:
                return LeaseDecision(True, None, None)
            return LeaseDecision(False, winner, None)
        return LeaseDecision(False, max(valid, key=lambda b: b.heartbeat), None)
    if held:
        return LeaseDecision(True, None, None)
    taken = max(others, key=lambda b: b.heartbeat) if others else None
    return LeaseDecision(True, None, taken)


def _dead_here(beat: ClockBeat, host: str, alive: Callable[[int], bool]) -> bool:
    return beat.host == host and not alive(beat.pid)


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` lives on this machine. A zombie (ended, its parent has not
    reaped it yet) runs nothing: not alive (Linux, from /proc)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc: what kill says
