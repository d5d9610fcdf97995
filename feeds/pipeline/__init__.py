"""The orchestrator: refresh sources, sync local articles, publish feeds, deliver pings.

A thin layer over the pure decisions (``feeds.policy``, ``feeds.merge``) and the adapters
(fetch, parse, render, store): ``refresh`` fetches and stores sources, ``publish`` renders and
stores documents, ``articles`` syncs the article files, ``outbox`` delivers hub pings,
``webhooks`` delivers the webhooks' events (queued by refresh and publish). Every
step returns values; a failing source is recorded on that source and never stops the others or
the publishing of feeds. The scheduler, the CLI and tests all go through ``Pipeline``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feeds import policy
from feeds.fetch import Fetcher
from feeds.pipeline.articles import ArticleSync, sync_articles
from feeds.pipeline.outbox import deliver_hub_pings
from feeds.pipeline.publish import Preview, Publisher
from feeds.pipeline.refresh import (
    Fetched,
    NetworkWatch,
    Refresher,
    fetch_settings_hash,
    parse_and_normalize,
    source_config_hash,
)
from feeds.pipeline.webhooks import deliver_webhooks
from feeds.store import Store
from feeds.times import Now, utcnow
from feeds.types import (
    ARTICLE_PROBLEMS,
    Article,
    Config,
    FeedSpec,
    Format,
    RefreshOutcome,
    Source,
    SourceStatus,
)

__all__ = [
    "ArticleSync",
    "Fetched",
    "Pipeline",
    "Preview",
    "UpdateReport",
    "fetch_settings_hash",
    "parse_and_normalize",
    "source_config_hash",
]


@dataclass(frozen=True)
class UpdateReport:
    outcomes: tuple[RefreshOutcome, ...]
    articles: ArticleSync
    published: tuple[str, ...]  # "name.format" of every document that changed
    feeds: int = 0
    waiting: tuple[SourceStatus, ...] = ()  # enabled sources not due: not fetched


log = logging.getLogger(__name__)


class Pipeline:
    """Everything the service does to its data, for one config and one store.

    Creating one does no I/O. The sources table is brought in line with the config by
    ``sync_sources``, which the first refresh calls if nobody did (and ``reconfigure`` calls
    again), so that a refresh is stored only for the source as configured when it was fetched.
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Now = utcnow,
        fetcher: Fetcher | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self._owns_fetcher = fetcher is None
        fetcher = fetcher or Fetcher(config.site.fetch)
        self._retired: list[Fetcher] = []  # closed on close(): other threads may still use them
        self._clock = clock
        self.publisher = Publisher(config, store, clock)
        network = NetworkWatch()
        self.refresher = Refresher(store, fetcher, clock, rng or random.Random(), network)
        self._synced: Config | None = None
        self._api_seen = -1  # the newest API write published (see follow_api_articles)

    # ------------------------------------------------------------------ lifecycle

    @property
    def config(self) -> Config:
        """The config in use (``reconfigure`` changes it)."""
        return self.publisher.config

    @property
    def fetcher(self) -> Fetcher:
        return self.refresher.fetcher

    @property
    def clock(self) -> Now:
        return self._clock

    @clock.setter
    def clock(self, clock: Now) -> None:
        self._clock = self.publisher.clock = self.refresher.clock = clock

    def close(self) -> None:
        if self._owns_fetcher:
            self.fetcher.close()
        for old in self._retired:
            old.close()
        self._retired.clear()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconfigure(self, config: Config) -> None:
        """Switch to a new (already validated) config."""
        if config.site.fetch != self.config.site.fetch and self._owns_fetcher:
            self._retired.append(self.fetcher)  # other threads may be fetching with it now
            self.refresher.fetcher = Fetcher(config.site.fetch)
        self.publisher.reconfigure(config)
        self.sync_sources()
        self.store.delete_documents(f.name for f in config.feeds)

    def sync_sources(self) -> None:
        """Make the sources table match the config: a source whose entry changed starts
        afresh (its validators, failures, a 410 and a remembered redirect are forgotten)."""
        config = self.config
        self.store.sync_sources({s.id: (s.url, source_config_hash(s)) for s in config.sources})
        self.store.sync_webhooks(config.site.webhooks)
        if self._synced is None:  # the first time: when an upstream last answered anyone
            last = self.store.last_response()
            if last is not None:
                self.refresher.network.answered(last)
        self._synced = config

    def _ready(self) -> None:
        if self._synced is not self.config:
            self.sync_sources()

    # ------------------------------------------------------------------ sources

    def refresh(self, source: Source, *, force: bool = False) -> RefreshOutcome:
        """Fetch one source now and store what changed. Never raises for upstream problems."""
        self._ready()
        return self.refresher.refresh(source, force=force)

    def refresh_all(
        self, sources: Iterable[Source] | None = None, *, force: bool = False
    ) -> list[RefreshOutcome]:
        """Refresh these sources (every enabled one by default) now, concurrently (bounded by
        the fetch concurrency setting), due or not; gone ones (410) only when ``force``."""
        self._ready()
        todo = list(self.config.sources if sources is None else sources)
        return self.refresher.refresh_all(todo, self.config.site.fetch.concurrency, force=force)

    def due_sources(self) -> tuple[list[Source], list[SourceStatus]]:
        """The enabled sources due now, and the states of those that are not (waiting for
        their next attempt: the interval, Retry-After, backoff, or gone)."""
        self._ready()
        now = self.clock()
        states = self.store.source_states()
        due, waiting = [], []
        for source in self.config.sources:
            if not source.enabled:
                continue
            state = states.get(source.id)
            if policy.due(state, now, self.fetch_hash):
                due.append(source)
            elif state is not None:
                waiting.append(state)
        return due, waiting

    @property
    def fetch_hash(self) -> str:
        """A hash of the [fetch] settings fetches run with (see ``policy.due``)."""
        return fetch_settings_hash(self.fetcher.settings)

    def due(self, source: Source) -> bool:
        """Whether the scheduler should fetch this source now (see ``policy.due``)."""
        return policy.due(self.store.source_status(source.id), self.clock(), self.fetch_hash)

    # ------------------------------------------------------------------ articles and feeds

    def sync_articles(self) -> ArticleSync:
        """Bring the stored articles in line with the files (see ``sync_articles``)."""
        return sync_articles(self.config.site, self.store, self.publisher.lock, self.clock())

    def resume(self) -> None:
        """What a clock does as it becomes the active one: bring the stored sources and
        articles in line with the config and files (logging the article problems already
        known once), and publish."""
        self.sync_sources()  # the stored states from now on are those of this config
        synced = self.sync_articles()
        log.info("%d local articles (%d problems)", synced.count, len(synced.problems))
        new = {str(p) for p in synced.appeared}  # logged by the sync, as they appeared
        for problem in self.store.problems(ARTICLE_PROBLEMS):
            if str(problem) not in new:
                log.warning("article problem (since %s): %s", problem.since, problem)
        self.publish_all()

    def feeds_using(self, source_ids: Iterable[str]) -> list[FeedSpec]:
        wanted = set(source_ids)
        return [f for f in self.config.feeds if wanted.intersection(self.config.source_ids_for(f))]

    def feeds_with_articles(self) -> list[FeedSpec]:
        return [f for f in self.config.feeds if f.local is not False]

    def publish(self, spec: FeedSpec, articles: Sequence[Article] | None = None) -> list[Format]:
        return self.publisher.publish(spec, articles)

    def publish_all(self, specs: Iterable[FeedSpec] | None = None) -> list[str]:
        return self.publisher.publish_all(specs)

    def deliver_hub_pings(self) -> int:
        return deliver_hub_pings(self.store, self.fetcher, self.clock)

    def deliver_webhooks(self) -> int:
        """POST the webhooks' due events (see ``pipeline/webhooks.py``); returns how many
        were delivered."""
        self._ready()
        return deliver_webhooks(self.store, self.fetcher, self.config.site.webhooks, self.clock)

    def preview(self, spec: FeedSpec) -> Preview:
        """What ``spec`` would publish now, and what it leaves out and why (no writes)."""
        return self.publisher.preview(spec)

    def follow_overrides(self) -> list[str]:
        """Publish every feed when the editors' overrides changed (a hide, a pin, … from any
        process) since the publisher last read them. Returns "name.format" of the documents
        that changed."""
        if not self.publisher.overrides_changed():
            return []
        self.publisher.reload_overrides()
        published = self.publish_all()
        if published and self.config.site.hub:
            self.deliver_hub_pings()
        return published

    def follow_api_articles(self) -> tuple[bool, list[str]]:
        """Publish the feeds with local articles when an API client changed an article
        (from any process) since the last call; the first call publishes them if any ever
        did. Returns whether articles changed, and "name.format" of the documents that
        changed (none for an article dated in the future: the caller plans its release)."""
        top, changed = self.store.api_changes(self._api_seen)
        self._api_seen = top  # read before the articles: a write from now on is seen next time
        if not changed:
            return False, []
        published = self.publish_all(self.feeds_with_articles())
        if published and self.config.site.hub:
            self.deliver_hub_pings()
        return True, published

    # ------------------------------------------------------------------ everything

    def update(self, *, force: bool = False) -> UpdateReport:
        """Everything that is due: the enabled sources due now (every one, gone ones
        included, with ``force``), the local articles, every feed."""
        waiting: list[SourceStatus] = []
        if force:
            outcomes = self.refresh_all(force=True)
        else:
            due, waiting = self.due_sources()
            outcomes = self.refresh_all(due)
        synced = self.sync_articles()
        published = self.publish_all()
        if self.config.site.hub:
            self.deliver_hub_pings()
        if self.config.site.webhooks:
            self.deliver_webhooks()
        self.store.prune(self.clock())
        self.store.prune_webhook_events()
        return UpdateReport(
            tuple(outcomes), synced, tuple(published), len(self.config.feeds), tuple(waiting)
        )
