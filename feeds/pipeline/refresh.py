"""Refreshing sources: fetch -> judge the network -> parse -> write.

A refresh never raises for an upstream's problem: every outcome is a value, and a failure
(a parser crash, a database error on one source) is recorded on that source, with backoff.
What a fetch makes of a source's state is decided by ``policy.next_status`` (pure); this
module does the I/O around it.

A batch (``RefreshBatch``) fetches many sources at once, bounded by the fetch concurrency.
Each source goes through the phases in its own worker thread, except that a network-level
failure (DNS, connection, timeout, TLS) is judged only once the whole batch is in: if no
upstream at all answered, our own network is down and no source is marked broken for it.
Large batches parse in worker processes (feedparser is CPU-bound and holds the GIL), and
refreshes that store no entries are written together, many per transaction.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feeds import policy
from feeds.errors import ParseError
from feeds.fetch import Fetcher
from feeds.normalize import normalize_feed
from feeds.pipeline.workers import parse_pool
from feeds.store import Store
from feeds.times import Now
from feeds.types import (
    Entry,
    EntryTimes,
    ErrorKind,
    FetchResult,
    FetchSettings,
    FetchStatus,
    RefreshOutcome,
    RefreshWrite,
    Source,
    SourceState,
    SourceStatus,
)

log = logging.getLogger(__name__)

# A batch of at least this many sources parses in worker processes; smaller batches and the
# scheduler's single refreshes parse in-thread.
PROCESS_POOL_MIN_SOURCES = 16
WRITE_BATCH = 250  # refreshes without new entries stored per transaction in a batch


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


@dataclass(frozen=True)
class ParsedBody:
    """What a new body gave: its entries, the feed's own ttl, and what could not be read."""

    entries: list[Entry]
    ttl: timedelta | None
    warning: str | None


def fetch_settings_hash(settings: FetchSettings) -> str:
    """Changes whenever an editor changes a [fetch] setting that can make a fetch fail: the
    user agent, the deadline, the size cap, the redirects allowed, private addresses."""
    failing = (
        settings.user_agent,
        settings.deadline,
        settings.max_bytes,
        settings.max_redirects,
        settings.allow_private_addresses,
    )
    return hashlib.sha256(repr(failing).encode()).hexdigest()


def parse_and_normalize(
    body: bytes,
    url: str,
    content_type: str | None,
    source_id: str,
    now: datetime,
    known: EntryTimes,
) -> ParsedBody:
    """Pure and picklable, so that it can run in a worker process. Raises ParseError."""
    from feeds.parse import parse  # feedparser loads only when there is a body to parse

    parsed = parse(body, url, content_type)
    entries = normalize_feed(parsed, source_id, url, now, known.first_seen, known.published)
    return ParsedBody(entries, parsed.ttl, " ".join(parsed.warnings) or None)


@dataclass(frozen=True)
class Fetched:
    """A fetch of one source, to be judged, parsed and written (``Refresher.complete``)."""

    source: Source
    status: SourceStatus  # the source's state before this fetch
    result: FetchResult


def parse_body(
    result: FetchResult,
    body: bytes,
    source_id: str,
    now: datetime,
    known: EntryTimes,
    pool: Executor | None,
) -> ParsedBody:
    """What a new body gives: in a worker process of ``pool`` when given. Raises ParseError
    (or whatever a parser bug raises)."""
    args = (body, result.url, result.content_type, source_id, now, known)
    if pool is not None:
        return pool.submit(parse_and_normalize, *args).result()
    return parse_and_normalize(*args)


class NetworkWatch:
    """When any upstream last answered at all (any HTTP status): proof our network works."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: datetime | None = None

    def answered(self, when: datetime) -> None:
        with self._lock:
            if self._last is None or when > self._last:
                self._last = when

    def works_since(self, since: datetime | None) -> bool:
        """Has some upstream answered after ``since``? (A source's ``suspect_since``: when a
        network-level failure of it was last left uncounted, or last counted.)"""
        with self._lock:
            last = self._last
        return last is not None and since is not None and last > since


class Refresher:
    """Refreshes sources into the store: one now (``refresh``), or a batch (``refresh_all``).

    The phases are public so that each can be driven on its own: ``fetch`` one source, then
    ``complete`` it (parse, decide its next state, write).
    """

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        clock: Now,
        rng: random.Random,
        network: NetworkWatch,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.rng = rng
        self.network = network

    # ------------------------------------------------------------------ phases

    def fetch(
        self, source: Source, *, status: SourceStatus | None = None, force: bool = False
    ) -> Fetched | RefreshOutcome:
        """Fetch one source (conditionally, from where it moved). A gone source (410) is not
        fetched unless forced: its outcome comes back at once."""
        status = (
            status
            or self.store.source_status(source.id)
            or SourceStatus(id=source.id, url=source.url)
        )
        if status.state is SourceState.GONE and not force:
            return RefreshOutcome(
                source.id, FetchStatus.ERROR, error=status.last_error or "gone (HTTP 410)"
            )
        result = self.fetcher.fetch(
            status.moved_to or source.url, status.etag, status.last_modified
        )
        if result.http_status is not None:
            self.network.answered(self.clock())
        return Fetched(source, status, result)

    def complete(
        self,
        fetched: Fetched,
        *,
        network_works: bool | None = None,
        defer: list[RefreshWrite] | None = None,
        pool: Executor | None = None,
    ) -> RefreshOutcome:
        """Parse what was fetched, decide the source's next state, and write both. Never
        raises: an unexpected error (a bug, a database error) is recorded on the source, with
        backoff, so that it shows on /sources and the source is not hammered.

        ``network_works`` defaults to whether some upstream answered since the source's
        ``suspect_since``. With ``defer``, a refresh that stores no entries is appended there
        instead of written (the caller writes many at once). With ``pool``, a new body is
        parsed in one of its worker processes."""
        try:
            return self._complete(fetched, network_works, defer, pool)
        except Exception as e:
            log.exception("refreshing %s failed", fetched.source.id)
            return self._record_internal_error(fetched, f"internal error: {e}")

    def _complete(
        self,
        fetched: Fetched,
        network_works: bool | None,
        defer: list[RefreshWrite] | None,
        pool: Executor | None,
    ) -> RefreshOutcome:
        source, status, result = fetched.source, fetched.status, fetched.result
        now = self.clock()
        entries: list[Entry] | None = None
        body_hash, feed_ttl, warning = status.body_hash, status.feed_ttl, status.warning
        body = result.body
        if result.status is FetchStatus.OK and body is not None:
            new_hash = hashlib.sha256(body).hexdigest()
            if new_hash == status.body_hash:
                # Same bytes as last time (servers without validators): skip parsing.
                result = replace(result, status=FetchStatus.NOT_MODIFIED)
            else:
                # Read outside the parse's error handling: a database error is not the body's.
                known = self.store.entry_times(source.id)
                try:
                    parsed = parse_body(result, body, source.id, now, known, pool)
                    entries, feed_ttl, warning = parsed.entries, parsed.ttl, parsed.warning
                    body_hash = new_hash
                except BrokenExecutor:  # a worker process died: ours to report, not the body's
                    raise
                except Exception as e:  # ParseError, or a parser bug: either way this body
                    if not isinstance(e, ParseError):
                        log.exception("parsing %s failed", source.id)
                    error = str(e) if isinstance(e, ParseError) else f"cannot parse: {e!r}"
                    result = replace(
                        result, status=FetchStatus.ERROR, error=error, error_kind=ErrorKind.PARSE
                    )
        if network_works is None:
            network_works = self.network.works_since(status.suspect_since)
        next_status = policy.next_status(
            source,
            status,
            result,
            now,
            self.rng,
            body_hash=body_hash,
            feed_ttl=feed_ttl,
            network_works=network_works,
            warning=warning,
        )
        write = RefreshWrite(
            # Stored only if the config in the database is still the one that was fetched.
            replace(
                next_status,
                config_hash=source_config_hash(source),
                fetch_hash=fetch_settings_hash(self.fetcher.settings),
            ),
            result,
            entries,
            now,
            source.max_items,
            source.max_age,
            previous_fetch=status.last_fetch,
            check_previous=True,
            event=policy.source_event(status, next_status),
        )
        if defer is not None and not entries:
            defer.append(write)  # nothing but state and counters: written with others
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
            error=next_status.last_error if result.status is FetchStatus.ERROR else None,
            http_status=result.http_status,
            duration=result.duration,
        )

    def _record_internal_error(self, fetched: Fetched, error: str) -> RefreshOutcome:
        source, status = fetched.source, fetched.status
        now = self.clock()
        failed = replace(
            fetched.result,
            status=FetchStatus.ERROR,
            error=error,
            error_kind=ErrorKind.INTERNAL,
            body=None,
        )
        failure = replace(
            policy.after_internal_error(source, status, failed, now, self.rng),
            fetch_hash=fetch_settings_hash(self.fetcher.settings),
        )
        try:
            event = policy.source_event(status, failure)
            self.store.save_refresh(failure, failed, None, now, event=event)
        except Exception:
            log.exception("cannot record the failure of %s either", source.id)
        return RefreshOutcome(source.id, FetchStatus.ERROR, error=error)

    # ------------------------------------------------------------------ entry points

    def refresh(self, source: Source, *, force: bool = False) -> RefreshOutcome:
        """Fetch one source now and store what changed."""
        fetched = self.fetch(source, force=force)
        if isinstance(fetched, RefreshOutcome):
            return fetched
        return self.complete(fetched)

    def refresh_all(
        self, sources: Sequence[Source], concurrency: int, *, force: bool = False
    ) -> list[RefreshOutcome]:
        """Refresh enabled sources at once, at most ``concurrency`` at a time (``force``:
        gone ones too)."""
        enabled = [s for s in sources if s.enabled]
        return RefreshBatch(self, enabled, concurrency, force=force).run()


class RefreshBatch:
    """One batch of refreshes, phase by phase (see the module docstring)."""

    def __init__(
        self,
        refresher: Refresher,
        sources: Sequence[Source],
        concurrency: int,
        *,
        force: bool = False,
    ) -> None:
        self.refresher = refresher
        self.sources = list(sources)
        self.force = force
        self.workers = max(1, min(concurrency, len(self.sources)))
        self.deferred: list[RefreshWrite] = []  # list.append is atomic: safe from the threads
        self.pool: Executor | None = None  # worker processes parsing, for a large batch

    def run(self) -> list[RefreshOutcome]:
        if not self.sources:
            return []
        first = self.fetch_and_complete()
        answered = any(_answered(item) for item in first)
        outcomes = [
            self.judge(item, answered) if isinstance(item, Fetched) else item for item in first
        ]
        self.write_deferred()
        return outcomes

    def fetch_and_complete(self) -> list[Fetched | RefreshOutcome]:
        """Phase 1 for every source, concurrently; each fetch that is not a network-level
        failure goes on through parsing and writing in its thread, the others wait."""
        refresher = self.refresher
        ids = [s.id for s in self.sources]
        # Every status in one query (a source repeated in a batch reads its own again).
        statuses = refresher.store.source_states() if len(set(ids)) == len(ids) else {}
        cpus = os.cpu_count() or 1
        if len(self.sources) >= PROCESS_POOL_MIN_SOURCES and cpus > 1:
            self.pool = parse_pool(cpus, ["feeds.pipeline.refresh", "feeds.parse"])
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="refresh") as threads:
                return list(threads.map(lambda s: self._one(s, statuses.get(s.id)), self.sources))
        finally:
            if self.pool is not None:
                self.pool.shutdown()

    def _one(self, source: Source, status: SourceStatus | None) -> Fetched | RefreshOutcome:
        try:
            fetched = self.refresher.fetch(source, status=status, force=self.force)
        except Exception as e:  # a bug or a database error must not stop the other sources
            log.exception("refreshing %s failed", source.id)
            return RefreshOutcome(source.id, FetchStatus.ERROR, error=f"internal error: {e}")
        if isinstance(fetched, RefreshOutcome) or policy.is_network_level(fetched.result):
            return fetched  # judged once the whole batch is in
        return self.refresher.complete(fetched, defer=self.deferred, pool=self.pool)

    def judge(self, fetched: Fetched, answered: bool) -> RefreshOutcome:
        """Phase 2 for a network-level failure: it counts if any upstream answered in this
        batch, or since the source's previous failure of that kind."""
        works = answered or self.refresher.network.works_since(fetched.status.suspect_since)
        return self.refresher.complete(fetched, network_works=works, defer=self.deferred)

    def write_deferred(self) -> None:
        """The last phase: the refreshes without entries, many per transaction; if a
        transaction fails, one by one, so that one bad row loses only its own source."""
        store = self.refresher.store
        for start in range(0, len(self.deferred), WRITE_BATCH):
            chunk = self.deferred[start : start + WRITE_BATCH]
            try:
                store.save_refreshes(chunk)
            except Exception:
                log.exception("writing %d refreshes at once failed; one by one now", len(chunk))
                for write in chunk:
                    try:
                        store.save_refreshes([write])
                    except Exception:
                        log.exception("cannot store the refresh of %s", write.status.id)


def _answered(item: Fetched | RefreshOutcome) -> bool:
    if isinstance(item, Fetched):
        return item.result.http_status is not None
    return item.http_status is not None
