"""The lease side of the clock: renewing or claiming the lease with each heartbeat, taking
over as the active clock, standing by, and fencing a clock that cannot renew (see
feeds/lease.py for the rules, feeds/scheduler.py for the jobs)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from feeds.lease import FENCE
from feeds.pipeline import Pipeline

log = logging.getLogger("feeds.scheduler")


class LeaseHolder:
    """What a clock knows of its lease. Subclasses set the attributes below and define
    ``activate`` (publish what is stored, schedule every job)."""

    pipeline: Pipeline
    id: str
    host: str
    pid: int
    started: datetime

    def __init__(self) -> None:
        self.active = False  # holds the lease (as of its last renewal)
        self.monotonic = time.monotonic  # replaceable by tests (the fence's own clock)
        self._renewed = float("-inf")  # self.monotonic() of the last renewal
        self._holder: str | None = None  # the active clock's id, while we stand by
        self._grace = 0.0  # seconds before due sources start, after a takeover
        self.earliest = datetime.min.replace(tzinfo=UTC)  # no source job starts before

    def activate(self) -> None:
        """Publish what is stored and schedule every job (now, in this thread)."""
        raise NotImplementedError

    def activate_soon(self) -> None:
        """Run ``activate`` on a worker thread, never delaying the next heartbeat."""
        raise NotImplementedError

    def drop_jobs(self) -> None:
        """Remove every job but the heartbeat."""
        raise NotImplementedError

    def holding(self) -> bool:
        """Whether this clock may fetch and publish now: it holds the lease, renewed less
        than FENCE ago."""
        return self.active and self.monotonic() - self._renewed < FENCE.total_seconds()

    def stand_down(self, reason: str) -> None:
        """Stop fetching and publishing (jobs already running finish): `reason` logged."""
        self.active = False
        self.drop_jobs()
        log.warning("this clock stands by: %s", reason)

    def _guarded(self, job: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            if self.holding():
                job()

        return run

    def heartbeat_job(self, activate: bool = True) -> None:
        """Renew or claim the lease (and tell /status this clock is alive); take over as the
        active clock, or stand by, as the database decides."""
        try:
            decision = self.pipeline.store.claim_lease(
                self.id, self.host, self.pid, self.started, self.pipeline.clock()
            )
        except Exception as e:  # the database is away: the clock carries on, and retries
            log.warning("heartbeat not written: %s", e)
            if self.active and not self.holding():
                self.stand_down(f"the lease was not renewed for {FENCE.total_seconds():.0f} s")
            return
        if not decision.active:
            holder = decision.holder.id if decision.holder is not None else "another clock"
            if self.active:
                self.stand_down(f"{holder} holds the lease")
            elif holder != self._holder:
                log.info("standing by: %s is the active clock", holder)
            self._holder = holder
            return
        self._renewed = self.monotonic()
        self._holder = None
        if self.active:
            return
        self.active = True
        self._grace = 0.0
        if decision.taken_from is not None:
            self._grace = self.pipeline.config.site.fetch.deadline
            log.warning(
                "this clock is now the active one: %s stopped renewing its lease (last "
                "heartbeat %s); sources due start in %.0f s",
                decision.taken_from.id,
                decision.taken_from.heartbeat.isoformat(),
                self._grace,
            )
        else:
            log.info("this clock is the active one")
        if activate:
            self.activate_soon()
