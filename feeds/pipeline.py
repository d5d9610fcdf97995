"""The one orchestrator: refresh sources, sync local articles, publish feeds.

Every step returns values; a failing source is recorded on that source and never stops the
others or the publishing of feeds. The scheduler, the CLI and tests all go through here.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from feeds import articles as local_articles
from feeds import policy
from feeds.errors import ParseError
from feeds.fetch import Fetcher
from feeds.merge import merge
from feeds.normalize import normalize_feed
from feeds.parse import parse
from feeds.render import feed_url, render_all
from feeds.store import Store
from feeds.types import (
    Article,
    Config,
    FeedSpec,
    FetchResult,
    FetchStatus,
    Format,
    ItemSource,
    RefreshOutcome,
    Source,
    SourceState,
    SourceStatus,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def source_config_hash(source: Source) -> str:
    """Changes whenever an editor changes anything about the source."""
    text = "\n".join(
        (source.url, source.title, ",".join(source.tags), str(source.interval), str(source.enabled))
    )
    return hashlib.sha256(text.encode()).hexdigest()


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


@dataclass
class Pipeline:
    config: Config
    store: Store
    clock: Clock = utcnow
    fetcher: Fetcher | None = None
    _publish_lock: threading.Lock = field(default_factory=threading.Lock)
    _owns_fetcher: bool = False

    def __post_init__(self) -> None:
        if self.fetcher is None:
            self.fetcher = Fetcher(self.config.site.fetch)
            self._owns_fetcher = True
        self.store.sync_sources({s.id: (s.url, source_config_hash(s)) for s in self.config.sources})

    def close(self) -> None:
        if self._owns_fetcher and self.fetcher is not None:
            self.fetcher.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconfigure(self, config: Config) -> None:
        """Switch to a new (already validated) config."""
        if config.site.fetch != self.config.site.fetch and self._owns_fetcher:
            old = self.fetcher
            self.fetcher = Fetcher(config.site.fetch)
            if old is not None:
                old.close()
        self.config = config
        self.store.sync_sources({s.id: (s.url, source_config_hash(s)) for s in config.sources})
        self.store.delete_documents(f.name for f in config.feeds)

    # ------------------------------------------------------------------ sources

    def refresh(self, source: Source, *, force: bool = False) -> RefreshOutcome:
        """Fetch one source and store what changed. Never raises for upstream problems."""
        status = self.store.source_status(source.id) or SourceStatus(id=source.id, url=source.url)
        if status.state is SourceState.GONE and not force:
            return RefreshOutcome(
                source.id, FetchStatus.ERROR, error=status.last_error or "gone (HTTP 410)"
            )
        assert self.fetcher is not None
        url = status.moved_to or source.url
        result = self.fetcher.fetch(url, status.etag, status.last_modified)
        now = self.clock()
        new_entries = None
        body_hash = status.body_hash
        min_interval: timedelta | None = None
        body = result.body
        if result.status is FetchStatus.OK and body is not None:
            body_hash = hashlib.sha256(body).hexdigest()
            if body_hash == status.body_hash:
                result = replace(result, status=FetchStatus.NOT_MODIFIED)
            else:
                try:
                    parsed = parse(body, result.url, result.content_type)
                except ParseError as e:
                    result = replace(result, status=FetchStatus.ERROR, error=str(e))
                    result = replace(result, error_kind="parse")
                    body_hash = status.body_hash
                else:
                    min_interval = parsed.ttl
                    new_entries = normalize_feed(
                        parsed, source.id, result.url, now, self.store.first_seen(source.id)
                    )
        updated_status = self._next_status(source, status, result, body_hash, now, min_interval)
        new, changed = self.store.save_refresh(updated_status, result, new_entries, now)
        outcome = RefreshOutcome(
            source_id=source.id,
            status=result.status,
            new=new,
            updated=changed,
            error=result.error,
            http_status=result.http_status,
            duration=result.duration,
        )
        log.info(
            "source %s: %s%s",
            source.id,
            result.status.value,
            f" ({result.error})" if result.error else f", {new} new, {changed} updated",
        )
        return outcome

    def _next_status(
        self,
        source: Source,
        status: SourceStatus,
        result: FetchResult,
        body_hash: str | None,
        now: datetime,
        min_interval: timedelta | None,
    ) -> SourceStatus:
        ok = result.status is not FetchStatus.ERROR
        failures = 0 if ok else status.failures + 1
        state = SourceState.OK if ok else SourceState.ERROR
        if result.http_status == 410:
            state = SourceState.GONE
        moved_to = status.moved_to
        if result.permanent_url and result.permanent_url != source.url:
            moved_to = result.permanent_url
        return replace(
            status,
            url=source.url,
            state=state,
            etag=result.etag if ok else status.etag,
            last_modified=result.last_modified if ok else status.last_modified,
            body_hash=body_hash,
            last_fetch=now,
            last_success=now if ok else status.last_success,
            last_http_status=result.http_status,
            last_error=None if ok else result.error,
            failures=failures,
            next_fetch=policy.next_attempt(
                source.interval,
                result,
                failures,
                now,
                min_interval=min_interval,
            ),
            moved_to=moved_to,
        )

    def due(self, source: Source) -> bool:
        """Whether the scheduler should fetch this source now (backoff and 410 respected)."""
        status = self.store.source_status(source.id)
        if status is None or status.next_fetch is None:
            return status is None or status.state is not SourceState.GONE
        return status.state is not SourceState.GONE and status.next_fetch <= self.clock()

    def refresh_all(self, sources: Iterable[Source] | None = None) -> list[RefreshOutcome]:
        """Refresh sources concurrently (bounded by the fetch concurrency setting)."""
        todo = [s for s in (sources or self.config.sources) if s.enabled]
        if not todo:
            return []
        workers = max(1, min(self.config.site.fetch.concurrency, len(todo)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="refresh") as pool:
            return list(pool.map(self._refresh_safely, todo))

    def _refresh_safely(self, source: Source) -> RefreshOutcome:
        try:
            return self.refresh(source)
        except Exception as e:  # a bug or a database error must not stop the other sources
            log.exception("refreshing %s failed", source.id)
            return RefreshOutcome(source.id, FetchStatus.ERROR, error=f"internal error: {e}")

    # ------------------------------------------------------------------ articles

    def sync_articles(self) -> ArticleSync:
        found, problems = local_articles.load_articles(self.config.site)
        for problem in problems:
            log.warning("article skipped: %s", problem)
        added, updated, removed = self.store.sync_articles(found)
        return ArticleSync(len(found), added, updated, removed, tuple(problems))

    # ------------------------------------------------------------------ feeds

    def feeds_using(self, source_ids: Iterable[str]) -> list[FeedSpec]:
        wanted = set(source_ids)
        return [f for f in self.config.feeds if wanted.intersection(self.config.source_ids_for(f))]

    def feeds_with_articles(self) -> list[FeedSpec]:
        return [f for f in self.config.feeds if f.local is not False]

    def publish(self, spec: FeedSpec, articles: Sequence[Article] | None = None) -> list[Format]:
        """Render one feed in every format; store the documents whose bytes changed."""
        with self._publish_lock:
            now = self.clock()
            config = self.config
            statuses = self.store.source_statuses()
            source_ids = config.source_ids_for(spec)
            item_sources = {}
            for sid in source_ids:
                source = config.source(sid)
                if source is None:
                    continue
                status = statuses.get(sid)
                url = (status.moved_to if status else None) or source.url
                item_sources[sid] = ItemSource(id=sid, title=source.title, url=url)
            if articles is None:
                articles = self.store.articles()
            since = now - spec.max_age if spec.max_age else None
            want = spec.limit * 3 + 20
            while True:
                entries = self.store.recent_entries(source_ids, want, since)
                items = merge(spec, config.site, articles, entries, item_sources, now)
                if len(items) >= spec.limit or len(entries) < want:
                    break
                want *= 4
            changed = []
            for rendered in render_all(config.site, spec, items):
                if self.store.put_document(spec.name, rendered.format, rendered.body, now):
                    changed.append(rendered.format)
            if changed:
                log.info(
                    "published %s (%s), %d items",
                    spec.name,
                    ", ".join(f.value for f in changed),
                    len(items),
                )
            return changed

    def publish_all(self, specs: Iterable[FeedSpec] | None = None) -> list[str]:
        articles = self.store.articles()
        published = []
        for spec in specs if specs is not None else self.config.feeds:
            for fmt in self.publish(spec, articles):
                published.append(f"{spec.name}.{fmt.value}")
        return published

    def update(self) -> UpdateReport:
        """Everything, now: every enabled source, the local articles, every feed."""
        outcomes = self.refresh_all()
        synced = self.sync_articles()
        published = self.publish_all()
        return UpdateReport(tuple(outcomes), synced, tuple(published), len(self.config.feeds))

    def self_urls(self, spec: FeedSpec) -> dict[Format, str]:
        return {fmt: feed_url(self.config.site, spec, fmt) for fmt in Format}
