"""The clock: APScheduler jobs that call the pipeline, and nothing else.

One job per enabled source, always set for the time the pipeline decided (`next_fetch`: the
interval with jitter, the feed's own hints, Retry-After or backoff); a job re-reading local
articles; a job watching the config files; a job delivering WebSub pings; a job delivering
the webhooks' events (in a thread of its own, never delaying fetches); a job following the
editors' overrides (a hide or a pin from any process is published within seconds); a job
following the articles API clients write (published within seconds). Feeds are
rebuilt when something they use changed. A local article dated in the future is published at
its time by a one-shot job (``release``), planned again after every articles sync, config
reload and release.

Any number of clocks may run against one database; exactly one is active (feeds/lease.py).
Every HEARTBEAT_SECONDS each clock writes its heartbeat, which renews or claims the lease
(/status shows them); a standby runs no other job. When the active clock dies, a standby
takes over within LEASE plus a heartbeat: it publishes what is stored and schedules every
source from its stored next attempt (after one fetch deadline when the old clock did not stop
cleanly: a fetch it began is never made twice). An active clock that cannot renew its lease
for FENCE stops fetching and publishing on its own, before anyone can take it over. A clock
removes its row when it stops cleanly, so a standby takes over at its next heartbeat.

Other processes write to the same database (`feeds refresh` by an editor, `feeds update` from
cron, a second machine): every FOLLOW_SECONDS the clock compares each source's job with what is
stored and follows the store when they differ by more than FOLLOW_TOLERANCE (a source
refreshed elsewhere waits for its new next attempt; one whose backoff a [fetch] change ended,
or that came back from 410, is fetched now).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from feeds import policy
from feeds.merge import next_release
from feeds.pipeline import Pipeline, source_config_hash
from feeds.reload import ConfigWatcher
from feeds.standby import LeaseHolder
from feeds.types import HEARTBEAT_SECONDS, Config, Source, SourceState

log = logging.getLogger(__name__)

CONFIG_POLL_SECONDS = 5
FOLLOW_SECONDS = 10
FOLLOW_TOLERANCE = timedelta(seconds=60)  # more than the start-up spread of new sources
HUB_POLL_SECONDS = 10
WEBHOOKS_POLL_SECONDS = 2  # a webhook hears of an event within seconds
OVERRIDES_POLL_SECONDS = 1  # an editor's hide or pin is published within seconds
API_POLL_SECONDS = 1  # an article the CMS pushes is published within seconds (bench/api.py)
PRUNE_SECONDS = 6 * 3600
SOURCE_JOB_PREFIX = "source:"
RELEASE_JOB = "release"


class Clock(LeaseHolder):
    def __init__(self, pipeline: Pipeline, watcher: ConfigWatcher, *, blocking: bool) -> None:
        super().__init__()
        self.pipeline = pipeline
        self.watcher = watcher
        self._applied: Config = pipeline.config  # the watcher's newer configs get applied
        self._running: set[str] = set()  # sources whose job runs now
        self._running_lock = threading.Lock()
        self.host, self.pid, self.started = socket.gethostname(), os.getpid(), pipeline.clock()
        self.id = f"{self.host}:{self.pid}:{int(self.started.timestamp())}"
        workers = max(2, pipeline.config.site.fetch.concurrency) + 2
        self._executors = executors = {
            "default": ThreadPoolExecutor(max_workers=workers),
            # its own thread: busy fetches never delay the heartbeat into looking stopped
            "heartbeat": ThreadPoolExecutor(max_workers=1),
            # webhooks deliver in their own thread (and their own threads per webhook):
            # a slow receiver never takes a thread from fetching or publishing
            "webhooks": ThreadPoolExecutor(max_workers=1),
        }
        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        cls = BlockingScheduler if blocking else BackgroundScheduler
        self.scheduler: BaseScheduler = cls(
            executors=executors, job_defaults=defaults, timezone=UTC
        )
        # a source job runs from its hand-over to a worker (follow_job leaves it alone)
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)

    def start(self) -> None:
        """Claim the lease; if this clock holds it, publish what is stored and schedule
        every job; then run (blocks if blocking), renewing the lease or standing by."""
        self.heartbeat_job(activate=False)
        if self.active:
            self.activate()
        beat = IntervalTrigger(seconds=HEARTBEAT_SECONDS)
        self.scheduler.add_job(self.heartbeat_job, beat, id="heartbeat", executor="heartbeat")
        self.scheduler.start()

    def activate(self) -> None:
        """Become the active clock: apply the newest config, publish what is stored, schedule
        every job. After a takeover, sources due now start after one fetch deadline."""
        self.watcher.poll()
        config = self.watcher.current
        if config is not self._applied:
            self.pipeline.reconfigure(config)
            self._applied = config
        try:
            self.pipeline.resume()
            self.plan_release()
        except Exception:  # the clock must start even if the first publish fails
            log.exception("initial publish failed; the jobs will retry")
        self.earliest = datetime.now(UTC) + timedelta(seconds=self._grace)
        self.schedule_sources(spread=30, not_before=self._grace)
        site = self.pipeline.config.site
        for job, seconds, name, executor in (
            (
                self.articles_job,
                max(1, int(site.articles_interval.total_seconds())),
                "articles",
                "",
            ),
            (self.config_job, CONFIG_POLL_SECONDS, "config", ""),
            (self.follow_job, FOLLOW_SECONDS, "follow", ""),
            (self.hub_job, HUB_POLL_SECONDS, "hub", ""),
            (self.webhooks_job, WEBHOOKS_POLL_SECONDS, "webhooks", "webhooks"),
            (self.overrides_job, OVERRIDES_POLL_SECONDS, "overrides", ""),
            (self.api_job, API_POLL_SECONDS, "api", ""),
            (self.prune_job, PRUNE_SECONDS, "prune", ""),
        ):
            trigger = IntervalTrigger(seconds=seconds)
            runs_on = {"executor": executor or "default", "replace_existing": True}
            self.scheduler.add_job(self._guarded(job), trigger, id=name, **runs_on)

    def activate_soon(self) -> None:
        self.scheduler.add_job(self.activate, id="activate")

    def drop_jobs(self) -> None:
        for job in (job for job in self.scheduler.get_jobs() if job.id != "heartbeat"):
            with contextlib.suppress(JobLookupError):
                job.remove()

    def shutdown(self) -> None:
        """Stop scheduling, let the running jobs finish, leave the lease."""
        if self.scheduler.running:
            # not wait=True: APScheduler would wait for the running jobs holding the lock
            # that one adding or removing a job (becoming active does) waits for, for ever
            self.scheduler.shutdown(wait=False)
            for executor in self._executors.values():
                executor.shutdown(wait=True)
        try:
            self.pipeline.store.clock_stopped(self.id)
        except Exception:
            log.exception("could not remove this clock's heartbeat")

    # ------------------------------------------------------------------ source jobs

    def schedule_sources(self, spread: float, not_before: float = 0) -> None:
        """One job per enabled source that is not gone, at its stored next fetch time.

        Sources never fetched (or reset by a config change) start within `spread` seconds,
        spread out; a job already set for a source keeps its time. None starts sooner than
        `not_before` seconds from now.
        """
        wanted = {s.id: s for s in self.pipeline.config.sources if s.enabled}
        statuses = self.pipeline.store.source_states()
        for job in self.scheduler.get_jobs():
            if job.id.startswith(SOURCE_JOB_PREFIX):
                source = wanted.get(job.id[len(SOURCE_JOB_PREFIX) :])
                if source is None or job.name != source_config_hash(source):
                    job.remove()  # gone from the config, or changed: starts afresh
        existing = {j.id for j in self.scheduler.get_jobs()}
        now = datetime.now(UTC)
        earliest = now + timedelta(seconds=not_before)
        for source in wanted.values():
            if SOURCE_JOB_PREFIX + source.id in existing:
                continue
            status = statuses.get(source.id)
            if status is not None and status.state is SourceState.GONE:
                continue  # 410: nothing to schedule until its config changes
            when = now + timedelta(seconds=random.uniform(0, spread))
            if status is not None and status.next_fetch is not None:
                when = max(status.next_fetch, when if status.next_fetch < now else now)
            self._schedule(source, max(when, earliest))

    def _schedule(self, source: Source, when: datetime) -> None:
        self.scheduler.add_job(
            self.source_job,
            DateTrigger(run_date=when),
            args=[source.id],
            id=SOURCE_JOB_PREFIX + source.id,
            name=source_config_hash(source),
            replace_existing=True,
        )

    def source_job(self, source_id: str) -> None:
        """Refresh one source, publish the feeds it changed, and set its next run."""
        source: Source | None = self.pipeline.config.source(source_id)
        if source is None or not source.enabled or not self.holding():
            return  # (standing by: the job is set again if this clock becomes active)
        with self._running_lock:
            self._running.add(source_id)
        try:
            if self.pipeline.due(source):
                outcome = self.pipeline.refresh(source)
                if outcome.changed:
                    self.pipeline.publish_all(self.pipeline.feeds_using([source_id]))
        except Exception:
            log.exception("source job %s failed", source_id)
        finally:
            try:
                self._reschedule(source)
            finally:
                with self._running_lock:
                    self._running.discard(source_id)

    def _reschedule(self, source: Source) -> None:
        now = datetime.now(UTC)
        current = self.pipeline.config.source(source.id)
        if current is None or not current.enabled:
            return  # removed or disabled while it ran
        if source_config_hash(current) != source_config_hash(source):
            # Changed while it ran: the reload scheduled the new config (soon); keep that.
            if self.job_time(source.id) is not None:
                return
            source = current
        try:
            status = self.pipeline.store.source_status(source.id)
        except Exception:
            log.exception("cannot read %s's state; retrying in its interval", source.id)
            status = None
        if status is not None and status.state is SourceState.GONE:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(SOURCE_JOB_PREFIX + source.id)
            return
        when = status.next_fetch if status is not None and status.next_fetch else None
        if when is None or when <= now:
            when = now + (source.interval if when is None else timedelta(seconds=1))
        self._schedule(source, when)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        if event.job_id.startswith(SOURCE_JOB_PREFIX):
            with self._running_lock:
                self._running.add(event.job_id[len(SOURCE_JOB_PREFIX) :])

    def follow_job(self) -> None:
        """Follow the next attempts other processes stored (see the module docstring)."""
        now = datetime.now(UTC)
        with self._running_lock:  # before reading the store: a job ending meanwhile wrote it
            running = set(self._running)
        statuses = self.pipeline.store.source_states()
        fetch_hash = self.pipeline.fetch_hash
        for source in self.pipeline.config.sources:
            status = statuses.get(source.id)
            if not source.enabled or status is None or source.id in running:
                continue
            scheduled = self.job_time(source.id)
            if status.state is SourceState.GONE:
                if scheduled is not None:
                    log.info("source %s is gone (410), as another process found", source.id)
                    with contextlib.suppress(JobLookupError):
                        self.scheduler.remove_job(SOURCE_JOB_PREFIX + source.id)
                continue
            wanted = now if policy.due(status, now, fetch_hash) else status.next_fetch
            if wanted is None:
                continue
            if scheduled is None or abs(scheduled - wanted) > FOLLOW_TOLERANCE:
                log.info("source %s: next attempt %s, as stored", source.id, wanted.isoformat())
                self._schedule(source, max(wanted, now, self.earliest))  # after any grace

    # ------------------------------------------------------------------ other jobs

    def articles_job(self) -> None:
        synced = self.pipeline.sync_articles()
        if synced.changed:
            log.info(
                "articles: %d added, %d updated, %d removed",
                synced.added,
                synced.updated,
                synced.removed,
            )
            self.pipeline.publish_all(self.pipeline.feeds_with_articles())
        self.plan_release()  # also for articles another process stored (`feeds update`)

    def plan_release(self) -> datetime | None:
        """Set the one-shot job that publishes the next scheduled article (a local article
        dated in the future) at its time; returns that time (None: nothing scheduled)."""
        when = next_release(self.pipeline.store.articles(), self.pipeline.clock())
        if when is None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(RELEASE_JOB)
            return None
        trigger = DateTrigger(run_date=when)
        self.scheduler.add_job(self.release_job, trigger, id=RELEASE_JOB, replace_existing=True)
        return when

    def release_job(self) -> None:
        """Publish the feeds with local articles now that a scheduled one is due."""
        if not self.holding():
            return
        published = self.pipeline.publish_all(self.pipeline.feeds_with_articles())
        log.info("scheduled articles due: published %s", ", ".join(published) or "nothing new")
        self.plan_release()

    def config_job(self) -> None:
        """Apply a changed, valid config; if applying it fails, try again on the next tick
        (with the newest one). The watcher logs the reload; in `feeds run` the web requests
        poll the same watcher, so a new config may have arrived through them."""
        self.watcher.poll()
        config = self.watcher.current
        if config is self._applied:
            return
        try:
            self.pipeline.reconfigure(config)
            self.schedule_sources(spread=5)
            self.pipeline.sync_articles()
            self.pipeline.publish_all()
            self.plan_release()
        except Exception:
            log.exception("applying the new config failed; retrying")
            return
        self._applied = config

    def hub_job(self) -> None:
        """Deliver due WebSub notifications (publishing only queues them, never waits)."""
        if self.pipeline.config.site.hub:
            self.pipeline.deliver_hub_pings()

    def webhooks_job(self) -> None:
        """Deliver the webhooks' due events from the outbox (see pipeline/webhooks.py)."""
        if self.pipeline.config.site.webhooks:
            self.pipeline.deliver_webhooks()

    def overrides_job(self) -> None:
        """Publish the editors' overrides (hide, pin, retitle, from any process) once they
        change: one cheap query a second."""
        published = self.pipeline.follow_overrides()
        if published:
            log.info("overrides applied: %d documents changed", len(published))

    def api_job(self) -> None:
        """Publish the articles API clients wrote (the web process only stores them): one
        cheap query a second."""
        changed, published = self.pipeline.follow_api_articles()
        if changed:
            log.info("API articles changed: %d documents changed", len(published))
            self.plan_release()  # an article dated in the future waits for its time

    def prune_job(self) -> None:
        """Keep the fetch log and the retention tombstones from growing without bound."""
        removed = self.pipeline.store.prune(datetime.now(UTC))
        self.pipeline.store.prune_webhook_events()
        log.info("pruned %d fetch-log rows and %d tombstones", *removed)

    def job_time(self, source_id: str) -> datetime | None:
        try:
            job = self.scheduler.get_job(SOURCE_JOB_PREFIX + source_id)
        except JobLookupError:
            return None
        return None if job is None else job.next_run_time
