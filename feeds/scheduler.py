"""The clock: APScheduler jobs that call the pipeline, and nothing else.

One job per enabled source at its interval (with jitter); a job re-reading local articles;
a job watching the config files. Feeds are rebuilt when something they use changed.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.types import Source

log = logging.getLogger(__name__)

CONFIG_POLL_SECONDS = 5
HUB_POLL_SECONDS = 10
SOURCE_JOB_PREFIX = "source:"


def jitter_seconds(interval: timedelta) -> int:
    """Spread fetches of sources sharing an interval: 10 % of it, at most five minutes."""
    return int(min(interval.total_seconds() * 0.1, 300))


class Clock:
    def __init__(self, pipeline: Pipeline, watcher: ConfigWatcher, *, blocking: bool) -> None:
        self.pipeline = pipeline
        self.watcher = watcher
        workers = max(2, pipeline.config.site.fetch.concurrency) + 2
        executors = {"default": ThreadPoolExecutor(max_workers=workers)}
        defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        cls = BlockingScheduler if blocking else BackgroundScheduler
        self.scheduler: BaseScheduler = cls(
            executors=executors, job_defaults=defaults, timezone=UTC
        )

    def start(self) -> None:
        """Publish what is stored, schedule every job, then run (blocks if blocking)."""
        synced = self.pipeline.sync_articles()
        log.info("%d local articles (%d problems)", synced.count, len(synced.problems))
        self.pipeline.publish_all()
        self._schedule_sources(first_run_within=30)
        site = self.pipeline.config.site
        self.scheduler.add_job(
            self.articles_job,
            IntervalTrigger(seconds=max(1, int(site.articles_interval.total_seconds()))),
            id="articles",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.config_job,
            IntervalTrigger(seconds=CONFIG_POLL_SECONDS),
            id="config",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.hub_job,
            IntervalTrigger(seconds=HUB_POLL_SECONDS),
            id="hub",
            replace_existing=True,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    # ------------------------------------------------------------------ jobs

    def _schedule_sources(self, first_run_within: int) -> None:
        wanted = {s.id: s for s in self.pipeline.config.sources if s.enabled}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(SOURCE_JOB_PREFIX) and job.id[len(SOURCE_JOB_PREFIX) :] not in (
                wanted
            ):
                job.remove()
        now = datetime.now(UTC)
        for source in wanted.values():
            self.scheduler.add_job(
                self.source_job,
                IntervalTrigger(
                    seconds=int(source.interval.total_seconds()),
                    jitter=jitter_seconds(source.interval),
                ),
                args=[source.id],
                id=SOURCE_JOB_PREFIX + source.id,
                replace_existing=True,
                next_run_time=now + timedelta(seconds=random.uniform(0, first_run_within)),
            )

    def source_job(self, source_id: str) -> None:
        source: Source | None = self.pipeline.config.source(source_id)
        if source is None or not source.enabled or not self.pipeline.due(source):
            return
        outcome = self.pipeline.refresh(source)
        if outcome.changed:
            self.pipeline.publish_all(self.pipeline.feeds_using([source_id]))

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

    def config_job(self) -> None:
        config = self.watcher.poll()
        if config is None:
            return
        self.pipeline.reconfigure(config)
        self.pipeline.sync_articles()
        self.pipeline.publish_all()
        self._schedule_sources(first_run_within=5)

    def hub_job(self) -> None:
        """Deliver due WebSub notifications (publishing only queues them, never waits)."""
        if self.pipeline.config.site.hub:
            self.pipeline.deliver_hub_pings()

    def jobs(self) -> list[Any]:
        return list(self.scheduler.get_jobs())
