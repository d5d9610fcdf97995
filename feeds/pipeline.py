"""The one orchestrator: refresh sources, sync local articles, publish feeds.

Every step returns values; a failing source is recorded on that source and never stops the
others or the publishing of feeds. The scheduler, the CLI and tests all go through here.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import random
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from feeds import articles as local_articles
from feeds import policy
from feeds.errors import ParseError
from feeds.fetch import Fetcher
from feeds.merge import merge
from feeds.normalize import normalize_feed
from feeds.render import Renderer, render_all
from feeds.store import Store
from feeds.times import utcnow
from feeds.types import (
    Article,
    Config,
    Entry,
    ErrorKind,
    FeedSpec,
    FetchResult,
    FetchSettings,
    FetchStatus,
    Format,
    Item,
    ItemSource,
    Page,
    RefreshOutcome,
    RefreshWrite,
    Source,
    SourceState,
    SourceStatus,
)
from feeds.urls import public_url

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# A batch of at least this many sources parses in worker processes (feedparser is CPU-bound
# and holds the GIL); smaller batches and the scheduler's single refreshes parse in-thread.
PROCESS_POOL_MIN_SOURCES = 16
MIN_TTL = timedelta(minutes=5)
WRITE_BATCH = 250  # refreshes without new entries stored per transaction in a batch
MAX_CANDIDATES = 20_000  # entries a publish looks at, at most, however narrow its filters


def source_config_hash(source: Source) -> str:
    """Changes whenever an editor changes anything about the source."""
    text = "\n".join(
        (
            source.url,
            source.title,
            ",".join(source.tags),
            str(source.interval),
            str(source.enabled),
            str(source.max_items),
            str(source.max_age),
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def make_fetcher(settings: FetchSettings) -> Fetcher:
    return Fetcher(settings, per_host=settings.per_host, host_spacing=settings.host_spacing)


def parse_and_normalize(
    body: bytes,
    url: str,
    content_type: str | None,
    source_id: str,
    now: datetime,
    first_seen: Mapping[str, datetime],
) -> tuple[list[Entry], timedelta | None]:
    """Pure and picklable, so that it can run in a worker process. Raises ParseError."""
    from feeds.parse import parse  # feedparser loads only when there is a body to parse

    parsed = parse(body, url, content_type)
    return normalize_feed(parsed, source_id, url, now, first_seen), parsed.ttl


@dataclass(frozen=True)
class ArticleSync:
    count: int
    added: int
    updated: int
    removed: int
    problems: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class UpdateReport:
    outcomes: tuple[RefreshOutcome, ...]
    articles: ArticleSync
    published: tuple[str, ...]  # "name.format" of every document that changed
    feeds: int = 0


@dataclass(frozen=True)
class _Fetched:
    """A fetch whose processing waits for the end of its batch (a network-level failure:
    whether it counts depends on whether any other upstream answered)."""

    source: Source
    status: SourceStatus
    result: FetchResult


@dataclass
class Pipeline:
    config: Config
    store: Store
    clock: Clock = utcnow
    fetcher: Fetcher | None = None
    rng: random.Random = field(default_factory=random.Random)
    _publish_lock: threading.RLock = field(default_factory=threading.RLock)
    _owns_fetcher: bool = False
    _retired: list[Fetcher] = field(default_factory=list)  # closed on close(): may be in use
    _parse_pool: Executor | None = None
    _renderer: Renderer = field(default_factory=Renderer)  # remembers the last documents
    _recorded: dict[str, frozenset[Item]] = field(default_factory=dict)  # see _publish_archives
    _last_response: datetime | None = None
    _response_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.fetcher is None:
            self.fetcher = make_fetcher(self.config.site.fetch)
            self._owns_fetcher = True
        self.store.sync_sources({s.id: (s.url, source_config_hash(s)) for s in self.config.sources})
        self._last_response = self.store.last_response()

    def close(self) -> None:
        if self._owns_fetcher and self.fetcher is not None:
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
            old = self.fetcher
            self.fetcher = make_fetcher(config.site.fetch)
            if old is not None:
                self._retired.append(old)  # other threads may be fetching with it right now
        with self._publish_lock:  # not while a publish remembers what it did
            self.config = config
            # What publishing remembers of each feed is for the config it was made with.
            self._renderer = Renderer()
            self._recorded.clear()
        self.store.sync_sources({s.id: (s.url, source_config_hash(s)) for s in config.sources})
        self.store.delete_documents(f.name for f in config.feeds)

    # ------------------------------------------------------------------ sources

    def refresh(self, source: Source, *, force: bool = False) -> RefreshOutcome:
        """Fetch one source and store what changed. Never raises for upstream problems."""
        fetched = self._fetch(source, force=force)
        if isinstance(fetched, RefreshOutcome):
            return fetched
        return self._guarded(fetched.source, fetched.status, fetched.result, None)

    def _fetch(
        self, source: Source, *, force: bool = False, known: SourceStatus | None = None
    ) -> RefreshOutcome | _Fetched:
        status = (
            known
            or self.store.source_status(source.id)
            or SourceStatus(id=source.id, url=source.url)
        )
        if status.state is SourceState.GONE and not force:
            return RefreshOutcome(
                source.id, FetchStatus.ERROR, error=status.last_error or "gone (HTTP 410)"
            )
        assert self.fetcher is not None
        result = self.fetcher.fetch(
            status.moved_to or source.url, status.etag, status.last_modified
        )
        if result.http_status is not None:
            with self._response_lock:
                answered = self.clock()
                if self._last_response is None or answered > self._last_response:
                    self._last_response = answered
        return _Fetched(source, status, result)

    def _network_works(self, status: SourceStatus) -> bool:
        """Has any upstream answered since this source's last network-level failure?"""
        with self._response_lock:
            last = self._last_response
        return last is not None and status.suspect_since is not None and last > status.suspect_since

    def _process(
        self,
        source: Source,
        status: SourceStatus,
        result: FetchResult,
        network_works: bool | None = None,
        defer: list[RefreshWrite] | None = None,
    ) -> RefreshOutcome:
        now = self.clock()
        new_entries = None
        body_hash = status.body_hash
        feed_ttl = status.feed_ttl
        body = result.body
        if result.status is FetchStatus.OK and body is not None:
            body_hash = hashlib.sha256(body).hexdigest()
            if body_hash == status.body_hash:
                # Same bytes as last time (servers without validators): skip parsing.
                result = replace(result, status=FetchStatus.NOT_MODIFIED)
            else:
                try:
                    new_entries, feed_ttl = self._parse(source, result, body, now)
                except Exception as e:  # ParseError, or a parser bug: either way this body
                    if not isinstance(e, ParseError):
                        log.exception("parsing %s failed", source.id)
                    error = str(e) if isinstance(e, ParseError) else f"cannot parse: {e!r}"
                    result = replace(
                        result, status=FetchStatus.ERROR, error=error, error_kind=ErrorKind.PARSE
                    )
                    body_hash = status.body_hash
        if network_works is None:
            network_works = self._network_works(status)
        updated_status = replace(
            policy.next_status(
                source,
                status,
                result,
                now,
                self.rng,
                body_hash=body_hash,
                feed_ttl=feed_ttl,
                network_works=network_works,
            ),
            # Stored only if the config in the database is still the one that was fetched.
            config_hash=source_config_hash(source),
        )
        write = RefreshWrite(
            updated_status,
            result,
            new_entries,
            now,
            source.max_items,
            source.max_age,
            previous_fetch=status.last_fetch,
            check_previous=True,
        )
        if defer is not None and not new_entries:
            # Nothing but state and counters to write: batched with others (one transaction
            # per many sources instead of one each).
            defer.append(write)
            new = changed = 0
        else:
            new, changed = self.store.save_refreshes([write])[0]
        log.info(
            "source %s: %s%s",
            source.id,
            result.status.value,
            f" ({result.error})" if result.error else f", {new} new, {changed} updated",
        )
        return RefreshOutcome(
            source_id=source.id,
            status=result.status,
            new=new,
            updated=changed,
            error=updated_status.last_error if result.status is FetchStatus.ERROR else None,
            http_status=result.http_status,
            duration=result.duration,
        )

    def _parse(
        self, source: Source, result: FetchResult, body: bytes, now: datetime
    ) -> tuple[list[Entry], timedelta | None]:
        first_seen = self.store.first_seen(source.id)
        args = (body, result.url, result.content_type, source.id, now, first_seen)
        if self._parse_pool is not None:
            return self._parse_pool.submit(parse_and_normalize, *args).result()
        return parse_and_normalize(*args)

    def due(self, source: Source) -> bool:
        """Whether the scheduler should fetch this source now (backoff and 410 respected)."""
        status = self.store.source_status(source.id)
        if status is None:
            return True
        if status.state is SourceState.GONE:
            return False
        return status.next_fetch is None or status.next_fetch <= self.clock()

    def refresh_all(self, sources: Iterable[Source] | None = None) -> list[RefreshOutcome]:
        """Refresh sources concurrently (bounded by the fetch concurrency setting).

        Network-level failures are judged at the end of the batch: if no upstream at all
        answered, our own network is down and no source is marked broken for it.
        """
        todo = [s for s in (self.config.sources if sources is None else sources) if s.enabled]
        if not todo:
            return []
        workers = max(1, min(self.config.site.fetch.concurrency, len(todo)))
        cpus = os.cpu_count() or 1
        if len(todo) >= PROCESS_POOL_MIN_SOURCES and cpus > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["feeds.pipeline", "feeds.parse"])
            self._parse_pool = ProcessPoolExecutor(max_workers=cpus, mp_context=context)
        # Every status in one query rather than one query per source (each source appears
        # once in a batch; a repeated one reads its status again).
        ids = [s.id for s in todo]
        statuses = self.store.source_states() if len(set(ids)) == len(ids) else {}
        deferred: list[RefreshWrite] = []  # list.append is atomic: safe from the pool's threads
        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refresh") as pool:
                first = list(
                    pool.map(
                        lambda s: self._refresh_in_batch(s, statuses.get(s.id), deferred), todo
                    )
                )
        finally:
            if self._parse_pool is not None:
                self._parse_pool.shutdown()
                self._parse_pool = None
        answered = any(
            isinstance(o, RefreshOutcome) and o.http_status is not None for o in first
        ) or any(isinstance(o, _Fetched) and o.result.http_status is not None for o in first)
        outcomes = []
        for item in first:
            if isinstance(item, _Fetched):
                works = answered or self._network_works(item.status)
                outcomes.append(
                    self._guarded(item.source, item.status, item.result, works, deferred)
                )
            else:
                outcomes.append(item)
        self._write_deferred(deferred)
        return outcomes

    def _write_deferred(self, writes: list[RefreshWrite]) -> None:
        """Store the batched refreshes, many per transaction; if a batch fails, one by one,
        so that one bad row loses only its own source's state."""
        for start in range(0, len(writes), WRITE_BATCH):
            chunk = writes[start : start + WRITE_BATCH]
            try:
                self.store.save_refreshes(chunk)
            except Exception:
                log.exception(
                    "writing %d refreshes at once failed; writing them one by one", len(chunk)
                )
                for write in chunk:
                    try:
                        self.store.save_refreshes([write])
                    except Exception:
                        log.exception("cannot store the refresh of %s", write.status.id)

    def _refresh_in_batch(
        self, source: Source, status: SourceStatus | None, defer: list[RefreshWrite]
    ) -> RefreshOutcome | _Fetched:
        try:
            fetched = self._fetch(source, known=status)
            if isinstance(fetched, RefreshOutcome):
                return fetched
            result = fetched.result
            if policy.is_network_level(result):
                return fetched  # judged once the whole batch is in
            return self._process(fetched.source, fetched.status, result, None, defer)
        except Exception as e:  # a bug or a database error must not stop the other sources
            log.exception("refreshing %s failed", source.id)
            return RefreshOutcome(source.id, FetchStatus.ERROR, error=f"internal error: {e}")

    def _guarded(
        self,
        source: Source,
        status: SourceStatus,
        result: FetchResult,
        works: bool | None,
        defer: list[RefreshWrite] | None = None,
    ) -> RefreshOutcome:
        """Process a fetch; an unexpected error is recorded on the source (with backoff), so
        that it shows on /sources and the source is not hammered, and never raised."""
        try:
            return self._process(source, status, result, works, defer)
        except Exception as e:
            log.exception("refreshing %s failed", source.id)
            error = f"internal error: {e}"
            now = self.clock()
            failed = replace(
                result,
                status=FetchStatus.ERROR,
                error=error,
                error_kind=ErrorKind.INTERNAL,
                body=None,
            )
            try:
                failure = policy.next_status(
                    source,
                    status,
                    failed,
                    now,
                    self.rng,
                    body_hash=status.body_hash,
                    feed_ttl=status.feed_ttl,
                    network_works=True,
                )
                self.store.save_refresh(failure, failed, None, now)
            except Exception:
                log.exception("cannot record the failure of %s either", source.id)
            return RefreshOutcome(source.id, FetchStatus.ERROR, error=error)

    # ------------------------------------------------------------------ articles

    def sync_articles(self) -> ArticleSync:
        """Bring the stored articles in line with the files. A file that exists but is
        invalid right now keeps its last good version published; a missing directory
        (an unmounted volume) changes nothing."""
        site = self.config.site
        paths = local_articles.article_files(site)
        found, problems = local_articles.load_articles(site, paths)
        for problem in problems:
            log.warning("article skipped: %s", problem)
        if not site.articles_dir.is_dir():
            return ArticleSync(0, 0, 0, 0, tuple(problems))
        files = {local_articles.relative_path(p, site) for p in paths}
        unreadable = files - {a.path for a in found}
        with self._publish_lock:  # never between a publish's read of articles and its write
            added, updated, removed = self.store.sync_articles(found, unreadable)
        return ArticleSync(len(found), added, updated, removed, tuple(problems))

    # ------------------------------------------------------------------ feeds

    def feeds_using(self, source_ids: Iterable[str]) -> list[FeedSpec]:
        wanted = set(source_ids)
        return [f for f in self.config.feeds if wanted.intersection(self.config.source_ids_for(f))]

    def feeds_with_articles(self) -> list[FeedSpec]:
        return [f for f in self.config.feeds if f.local is not False]

    def feed_ttl(self, spec: FeedSpec) -> timedelta:
        """How often a feed is expected to change: its most frequent input, at least 5 min."""
        wanted = set(self.config.source_ids_for(spec))
        intervals = [s.interval for s in self.config.sources if s.id in wanted]
        if spec.local is not False:
            intervals.append(self.config.site.articles_interval)
        return max(min(intervals, default=MIN_TTL), MIN_TTL)

    def publish(self, spec: FeedSpec, articles: Sequence[Article] | None = None) -> list[Format]:
        """Render one feed (and any newly full archive page) in every format; store the
        documents whose bytes changed; queue WebSub pings for changed current documents."""
        with self._publish_lock:
            now = self.clock()
            config = self.config
            source_ids = config.source_ids_for(spec)
            moved = self.store.moved_urls() if source_ids else {}
            item_sources = {}
            for sid in source_ids:
                source = config.source(sid)
                if source is not None:
                    url = moved.get(sid) or source.url
                    item_sources[sid] = ItemSource(id=sid, title=source.title, url=public_url(url))
            if articles is None:
                articles = self.store.articles()
            since = now - spec.max_age if spec.max_age else None
            # Candidates: a few more than the limit (duplicates across sources merge away), more
            # (four times as many each time) while filters leave too few. Always the same for
            # the same stored entries: which copy of a story is credited first depends on how
            # far back the candidates go, so a feed must not change when nothing else did.
            want = spec.limit + 20
            while True:
                entries = self.store.recent_entries(source_ids, want, since)
                items = merge(spec, config.site, articles, entries, item_sources, now)
                if len(items) >= spec.limit or len(entries) < want or want >= MAX_CANDIDATES:
                    break
                want = min(want * 4, MAX_CANDIDATES)
            full_pages = self._publish_archives(spec, items, now)
            page = Page(prev_archive=full_pages or None, ttl=self.feed_ttl(spec))
            rendered = self._renderer.render_all(config.site, spec, items, page)
            changed = self.store.put_documents(spec.name, {r.format: r.body for r in rendered}, now)
            if changed:
                log.info(
                    "published %s (%s), %d items",
                    spec.name,
                    ", ".join(f.value for f in changed),
                    len(items),
                )
                if config.site.hub:
                    for fmt in changed:
                        topic = config.site.feed_url(spec.name, fmt.value)
                        self.store.queue_hub_ping(config.site.hub, topic, now)
            return changed

    def _publish_archives(self, spec: FeedSpec, items: Sequence[Item], now: datetime) -> int:
        """Record the feed's items and write every archive page that has just become full.

        Items are numbered in the order they first appeared in the feed. A page takes the
        next `archive_page_size` of them once there are that many; it is written once, all
        formats in one transaction, and never changes (its items' snapshots are frozen, and
        a later page size applies to later pages only). Returns the number of pages.
        """
        size = self.config.site.archive_page_size
        pages = self.store.archive_pages(spec.name)
        frozen = pages[-1][2] if pages else 0
        # Items recorded as they are by this process's last publish of the feed are still
        # recorded so: only new or changed ones are written, and without any, no page can
        # have become full since the last publish wrote the full ones.
        recorded = self._recorded.get(spec.name, frozenset())
        fresh = [item for item in items if item not in recorded]
        if not fresh:
            return len(pages)
        total = self.store.record_feed_items(spec.name, fresh, frozen_upto=frozen)
        number, first = len(pages), frozen + 1
        while total - first + 1 >= size:
            number, last = number + 1, first + size - 1
            page_items = self.store.feed_items_range(spec.name, first, last)
            page = Page(number=number, prev_archive=number - 1 or None)
            bodies = {
                r.format: r.body for r in render_all(self.config.site, spec, page_items, page)
            }
            self.store.write_archive_page(spec.name, number, first, last, bodies, now)
            log.info("archived %s page %d (%d items)", spec.name, number, len(page_items))
            first = last + 1
        self._recorded[spec.name] = frozenset(items)
        return number

    def publish_all(self, specs: Iterable[FeedSpec] | None = None) -> list[str]:
        """Publish feeds; one failing feed is logged and never stops the others."""
        published: list[str] = []
        with self._publish_lock:  # one consistent set of articles for every feed
            articles = self.store.articles()
            for spec in specs if specs is not None else self.config.feeds:
                try:
                    changed = self.publish(spec, articles)
                except Exception:
                    log.exception("publishing %s failed", spec.name)
                    continue
                published.extend(f"{spec.name}.{fmt.value}" for fmt in changed)
        return published

    # ------------------------------------------------------------------ WebSub

    def deliver_hub_pings(self) -> int:
        """Tell the hub about changed documents; failures are retried with backoff by later
        calls (the scheduler calls this every few seconds). Returns how many were delivered."""
        assert self.fetcher is not None
        delivered = 0
        for ping in self.store.due_hub_pings(self.clock()):
            answer = self.fetcher.notify_hub(ping.hub, ping.topic)
            if answer.ok:
                self.store.hub_ping_done(ping)
                delivered += 1
                continue
            error = answer.error or f"HTTP {answer.status}"
            retry = policy.hub_retry_at(ping.attempts + 1, self.clock())
            if retry is None:
                log.warning("hub %s: giving up on %s: %s", ping.hub, ping.topic, error)
            self.store.hub_ping_failed(ping, error, retry)
        return delivered

    # ------------------------------------------------------------------ everything

    def update(self) -> UpdateReport:
        """Everything, now: every enabled source, the local articles, every feed."""
        outcomes = self.refresh_all()
        synced = self.sync_articles()
        published = self.publish_all()
        if self.config.site.hub:
            self.deliver_hub_pings()
        self.store.prune(self.clock())
        return UpdateReport(tuple(outcomes), synced, tuple(published), len(self.config.feeds))
