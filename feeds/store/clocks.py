"""The clocks' heartbeats: each clock process's row, written every few seconds.

A row names the process (host, pid, when it started) and says when it last beat and whether
it is the active clock. A clock removes its row when it stops cleanly; a row whose process
died stays until FORGET_AFTER has passed since its last heartbeat (/status shows it as
stale meanwhile). Every heartbeat is one short write transaction.

``claim_lease`` is the clock's heartbeat: in the same write transaction it decides (with
feeds.lease) whether this clock is the active one, and marks a clock whose lease it takes
over as no longer active. ``clock_heartbeat`` writes a row with the flag given (for tests and
tools that only record).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa

from feeds.lease import LeaseDecision, decide, pid_alive
from feeds.store import codec
from feeds.store.engine import Database
from feeds.store.schema import clocks
from feeds.types import FORGET_AFTER, ClockBeat


class ClocksMixin(Database):
    """Write and read the clocks' heartbeats."""

    def clock_heartbeat(
        self, clock_id: str, host: str, pid: int, started: datetime, now: datetime, active: bool
    ) -> ClockBeat:
        """Record that the clock `clock_id` is alive at `now` (inserting its row the first
        time), and forget clocks silent for FORGET_AFTER. Returns the clock's row."""
        values = {"host": host, "pid": pid, "started": started, "heartbeat": now, "active": active}
        with self._write() as conn:
            done = conn.execute(clocks.update().where(clocks.c.id == clock_id).values(**values))
            if done.rowcount == 0:
                conn.execute(clocks.insert().values(id=clock_id, **values))
            conn.execute(
                clocks.delete().where(
                    clocks.c.heartbeat < now - FORGET_AFTER, clocks.c.id != clock_id
                )
            )
            row = conn.execute(sa.select(clocks).where(clocks.c.id == clock_id)).one()
        return codec.clock_from_row(row)

    def claim_lease(
        self,
        clock_id: str,
        host: str,
        pid: int,
        started: datetime,
        now: datetime,
        *,
        alive: Callable[[int], bool] | None = None,
    ) -> LeaseDecision:
        """Clock `clock_id`'s heartbeat at `now`, and whether it holds the lease (one write
        transaction: no other clock decides meanwhile). ``alive(pid)``: whether a process of
        this host lives (default: asks the operating system)."""
        with self._write() as conn:
            beats = [codec.clock_from_row(r) for r in conn.execute(sa.select(clocks))]
            decision = decide(beats, clock_id, host, now, alive=alive or pid_alive)
            values = {
                "host": host,
                "pid": pid,
                "started": started,
                "heartbeat": now,
                "active": decision.active,
            }
            done = conn.execute(clocks.update().where(clocks.c.id == clock_id).values(**values))
            if done.rowcount == 0:
                conn.execute(clocks.insert().values(id=clock_id, **values))
            if decision.taken_from is not None:
                conn.execute(
                    clocks.update()
                    .where(clocks.c.id == decision.taken_from.id)
                    .values(active=False)
                )
            conn.execute(
                clocks.delete().where(
                    clocks.c.heartbeat < now - FORGET_AFTER, clocks.c.id != clock_id
                )
            )
        return decision

    def clock_stopped(self, clock_id: str) -> None:
        """Remove a clock's row: it stopped cleanly."""
        with self._write() as conn:
            conn.execute(clocks.delete().where(clocks.c.id == clock_id))

    def clocks(self) -> list[ClockBeat]:
        """Every clock's row, the newest heartbeat first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(clocks).order_by(clocks.c.heartbeat.desc(), clocks.c.id))
            return [codec.clock_from_row(r) for r in rows]
