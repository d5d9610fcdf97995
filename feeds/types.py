"""Typed, frozen values passed between the stages of the pipeline.

config -> fetch -> parse -> normalize -> store -> merge -> render -> serve

This module imports the standard library only, so every other module can use it.
All datetimes are timezone-aware and in UTC.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class FetchSettings:
    """The `[fetch]` table of site.toml."""

    user_agent: str = "feeds/0.1 (+https://github.com/feeds/feeds)"
    deadline: float = 30.0  # seconds for a whole fetch: connect, headers and body
    max_bytes: int = 10 * 1024 * 1024  # counted after decompression
    concurrency: int = 8  # sources fetched at once
    max_redirects: int = 5
    allow_private_addresses: bool = False
    per_host: int = 2  # requests at once to one host
    host_spacing: float = 0.5  # seconds between the starts of two requests to one host


@dataclass(frozen=True)
class Site:
    """site.toml: the outlet publishing the feeds."""

    title: str
    link: str  # the site's home page
    base_url: str  # public URL of this service, no trailing slash
    description: str
    language: str
    articles_dir: Path
    fetch: FetchSettings = field(default_factory=FetchSettings)
    copyright: str = ""
    articles_interval: timedelta = timedelta(seconds=30)
    hub: str = ""  # WebSub hub URL; "" when none
    icon: str = ""  # square icon URL (Atom icon, JSON Feed icon/favicon)
    logo: str = ""  # wide logo URL (RSS channel image, Atom logo)
    archive_page_size: int = 50  # items per RFC 5005 archive page

    def feed_url(self, name: str, extension: str) -> str:
        """The public URL of a published document, e.g. feed_url("ours", "rss")."""
        return f"{self.base_url.rstrip('/')}/feeds/{name}.{extension}"

    def archive_url(self, name: str, number: int, extension: str) -> str:
        """The public URL of archive page `number` (1 = oldest) of a feed."""
        return f"{self.base_url.rstrip('/')}/feeds/{name}/archive/{number}.{extension}"


@dataclass(frozen=True)
class Source:
    """One `[[source]]` of sources.toml."""

    id: str
    url: str
    title: str
    tags: tuple[str, ...] = ()
    interval: timedelta = timedelta(minutes=30)
    enabled: bool = True
    max_items: int = 500  # retention: entries kept beyond the latest fetch
    max_age: timedelta | None = None  # retention: entries older than this are dropped


class ContentMode(enum.StrEnum):
    FULL = "full"
    SUMMARY = "summary"


@dataclass(frozen=True)
class FeedSpec:
    """One `[[feed]]` of feeds.toml."""

    name: str  # URL slug
    title: str
    description: str = ""
    # True: every local article; False: none; a tuple: local articles having any of these tags.
    local: bool | tuple[str, ...] = False
    # Source ids, "tag:NAME" or "*", as written in the config.
    sources: tuple[str, ...] = ()
    limit: int = 50
    include: tuple[str, ...] = ()  # regular expressions, case-insensitive; an item must match one
    exclude: tuple[str, ...] = ()  # regular expressions, case-insensitive; an item must match none
    max_age: timedelta | None = None
    content: ContentMode = ContentMode.FULL


@dataclass(frozen=True)
class Config:
    site: Site
    sources: tuple[Source, ...]
    feeds: tuple[FeedSpec, ...]

    def source(self, source_id: str) -> Source | None:
        return self._sources_by_id.get(source_id)

    @functools.cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {s.id: s for s in reversed(self.sources)}  # the first of a repeated id wins

    def feed(self, name: str) -> FeedSpec | None:
        return next((f for f in self.feeds if f.name == name), None)

    def source_ids_for(self, spec: FeedSpec) -> tuple[str, ...]:
        """Resolve a feed's `sources` selectors to enabled source ids, in config order."""
        wanted: list[str] = []
        for source in self.sources:
            if not source.enabled:
                continue
            for selector in spec.sources:
                if (
                    selector == "*"
                    or selector == source.id
                    or (selector.startswith("tag:") and selector[4:] in source.tags)
                ):
                    wanted.append(source.id)
                    break
        return tuple(wanted)


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class Image:
    url: str
    caption: str = ""
    credit: str = ""
    width: int | None = None
    height: int | None = None
    type: str = ""  # MIME type when known


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str = ""
    length: int = 0


# --------------------------------------------------------------------------- fetch


class FetchStatus(enum.StrEnum):
    OK = "ok"  # a body arrived
    NOT_MODIFIED = "not_modified"  # 304, or a body whose hash did not change
    ERROR = "error"


class ErrorKind(enum.StrEnum):
    """Why a refresh failed."""

    TIMEOUT = "timeout"  # the total deadline (waiting for the host, connect, headers, body)
    TOO_LARGE = "too_large"  # the decompressed body passed the size cap
    HTTP = "http"  # a 4xx/5xx (or unusable 1xx/3xx) answer
    REDIRECTS = "redirects"  # a redirect loop, too many redirects, an unusable Location
    REFUSED = "refused"  # not http(s), an invalid URL, or a non-public address
    DNS = "dns"  # the host name does not resolve
    TLS = "tls"  # the TLS handshake or certificate verification failed
    DECODE = "decode"  # an unsupported or corrupt Content-Encoding
    NETWORK = "network"  # any other transport problem (refused, reset, protocol error)
    PARSE = "parse"  # the body is not a feed
    INTERNAL = "internal"  # a bug or a database error while refreshing

    @property
    def network_level(self) -> bool:
        """A failure that says nothing about the upstream when our own network is down."""
        return self in _NETWORK_LEVEL

    @property
    def persistent(self) -> bool:
        """A failure of the body or the address that a quick retry will not fix."""
        return self in _PERSISTENT


_NETWORK_LEVEL = frozenset({ErrorKind.NETWORK, ErrorKind.DNS, ErrorKind.TIMEOUT, ErrorKind.TLS})
_PERSISTENT = frozenset(
    {ErrorKind.PARSE, ErrorKind.TOO_LARGE, ErrorKind.REFUSED, ErrorKind.REDIRECTS}
)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch of one source produced. Never raised: always returned."""

    status: FetchStatus
    url: str  # the URL finally fetched, after redirects
    http_status: int | None = None
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    error: str | None = None  # a short human-readable reason when status is ERROR
    error_kind: ErrorKind | None = None
    permanent_url: str | None = None  # set when a 301/308 moved the feed
    duration: float = 0.0  # seconds
    size: int = 0  # decompressed bytes read
    retry_after: str | None = None  # raw Retry-After header, if any
    headers: tuple[tuple[str, str], ...] = ()  # response headers (lower-case names)


# --------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class ParsedEntry:
    """An entry as the upstream document states it; URLs may still be relative."""

    id: str | None
    title: str  # may contain markup as the upstream sent it; normalize makes it plain text
    link: str | None
    published: datetime | None  # UTC
    updated: datetime | None  # UTC
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    summary: str = ""  # HTML
    content: str = ""  # HTML
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    base: str | None = None  # the base URL relative references resolve against


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None  # the upstream's home page
    entries: tuple[ParsedEntry, ...]
    ttl: timedelta | None = None  # <ttl> or sy:updatePeriod, when the feed states one


# --------------------------------------------------------------------------- normalized


@dataclass(frozen=True)
class Entry:
    """A normalized upstream entry, ready to store and merge."""

    source_id: str
    id: str  # stable for the same upstream entry across fetches
    title: str  # plain text
    link: str  # absolute, canonical ("" when the upstream gave none)
    published: datetime  # UTC, never in the future of first_seen
    updated: datetime  # UTC, >= published
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""  # sanitized HTML with absolute URLs
    content: str = ""  # sanitized HTML with absolute URLs
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    content_hash: str = ""  # changes only when what readers see changes


@dataclass(frozen=True)
class Article:
    """One of the outlet's own articles (a Markdown file, later also pushed by the CMS)."""

    slug: str  # unique among articles; the file name without ".md" unless front matter says so
    title: str
    link: str  # absolute
    published: datetime  # UTC
    updated: datetime  # UTC
    authors: tuple[str, ...] = ()
    summary: str = ""  # plain text dek
    content: str = ""  # HTML rendered from the Markdown body
    tags: tuple[str, ...] = ()
    image: Image | None = None
    path: str = ""  # the file it came from, relative to the articles directory
    content_hash: str = ""
    language: str = ""  # BCP 47 tag when it differs from the site's language, e.g. "ar"


@dataclass(frozen=True)
class ItemSource:
    """The upstream an aggregated item came from (RSS <source>, atom:source)."""

    id: str
    title: str
    url: str  # the upstream feed URL


@dataclass(frozen=True)
class Item:
    """One item of a published feed: a local article or an upstream entry, merged."""

    id: str  # the same in all formats; a URL for local articles, a tag: URI or guid otherwise
    title: str
    link: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""  # plain text
    content: str = ""  # HTML with absolute URLs; "" when the feed publishes summaries only
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    sources: tuple[ItemSource, ...] = ()  # empty for local articles
    language: str = ""  # BCP 47 tag when it differs from the feed's language


@dataclass(frozen=True)
class Page:
    """Which document of a feed is rendered, and how it links to the others (RFC 5005).

    The current (subscription) document has number 0; archive pages are numbered from 1, the
    oldest. `prev_archive` is the number of the newest archive page older than this document
    (None when there is none).
    """

    number: int = 0
    prev_archive: int | None = None
    next_archive: int | None = None  # archive pages only: the next newer archive page
    ttl: timedelta | None = None  # current document: how often it is expected to change

    @property
    def is_archive(self) -> bool:
        return self.number > 0


# --------------------------------------------------------------------------- published


class Format(enum.StrEnum):
    RSS = "rss"
    ATOM = "atom"
    JSON = "json"

    @property
    def content_type(self) -> str:
        return {
            Format.RSS: "application/rss+xml; charset=utf-8",
            Format.ATOM: "application/atom+xml; charset=utf-8",
            Format.JSON: "application/feed+json; charset=utf-8",
        }[self]


@dataclass(frozen=True)
class Rendered:
    """What render produces for one feed in one format."""

    format: Format
    body: bytes


@dataclass(frozen=True)
class Document:
    """A stored, servable document."""

    feed: str
    format: Format
    body: bytes
    gzip: bytes
    etag: str  # strong, quoted
    last_modified: datetime  # UTC, whole seconds: when these bytes were first stored
    content_type: str
    page: int = 0  # 0: the current (subscription) document; n: archive page n


# --------------------------------------------------------------------------- health


class SourceState(enum.StrEnum):
    NEW = "new"  # never fetched
    OK = "ok"  # last fetch succeeded
    ERROR = "error"  # last fetch failed; retried with backoff
    GONE = "gone"  # 410: not fetched again until its config changes
    DISABLED = "disabled"  # enabled = false in the config


@dataclass(frozen=True)
class SourceStatus:
    """A source's fetch state as stored."""

    id: str
    url: str
    state: SourceState = SourceState.NEW
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    last_http_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    next_fetch: datetime | None = None
    moved_to: str | None = None  # permanent redirect target, to suggest to editors
    entry_count: int = 0
    config_hash: str = ""
    # Set while network failures are not counted against the source because no upstream at
    # all has answered since (our own network is probably down).
    suspect_since: datetime | None = None
    feed_ttl: timedelta | None = None  # what the feed itself asks: <ttl>, sy:updatePeriod


def shown_state(source: Source, status: SourceStatus | None) -> SourceState:
    """The state editors see: disabled in the config wins, then what is stored."""
    if not source.enabled:
        return SourceState.DISABLED
    return status.state if status is not None else SourceState.NEW


@dataclass(frozen=True)
class RefreshOutcome:
    """The result of refreshing one source, as a value."""

    source_id: str
    status: FetchStatus
    new: int = 0
    updated: int = 0
    error: str | None = None
    http_status: int | None = None
    duration: float = 0.0

    @property
    def changed(self) -> bool:
        return self.new > 0 or self.updated > 0


# --------------------------------------------------------------------------- storage


@dataclass(frozen=True)
class RefreshWrite:
    """One refresh to store in one transaction: the source's new state, its entries (None
    when the body was not parsed), the fetch log and counters, and retention."""

    status: SourceStatus
    result: FetchResult
    entries: Sequence[Entry] | None
    now: datetime
    max_items: int | None = None
    max_age: timedelta | None = None
    # When set, the source's last fetch time as read before this fetch: if another writer
    # (a second process) stored a newer refresh meanwhile, this one is dropped.
    previous_fetch: datetime | None = None
    check_previous: bool = False


class StoredRefresh(NamedTuple):
    """What storing a refresh did: entries new and updated (both 0 when it was dropped)."""

    new: int = 0
    updated: int = 0


@dataclass(frozen=True)
class FetchRecord:
    """One row of the fetch log."""

    source_id: str
    at: datetime
    status: FetchStatus
    http_status: int | None
    duration_ms: int
    size: int
    new: int
    updated: int
    error: str | None


# Upper bounds (seconds) of the fetch-duration histogram; a last bucket holds the rest.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class SourceCounters:
    """A source's monotonic fetch counters, kept for good (what /metrics reports)."""

    fetches_ok: float = 0.0
    fetches_not_modified: float = 0.0
    fetches_error: float = 0.0
    new_entries: float = 0.0
    updated_entries: float = 0.0
    bytes: float = 0.0
    duration_sum: float = 0.0
    duration_count: float = 0.0
    # Fetches per DURATION_BUCKETS bound, then beyond the last one (not cumulative).
    duration_buckets: tuple[float, ...] = (0.0,) * (len(DURATION_BUCKETS) + 1)

    def fetches(self, status: FetchStatus) -> float:
        return {
            FetchStatus.OK: self.fetches_ok,
            FetchStatus.NOT_MODIFIED: self.fetches_not_modified,
            FetchStatus.ERROR: self.fetches_error,
        }[status]


def duration_bucket(seconds: float) -> int:
    """The index in SourceCounters.duration_buckets of the bucket holding ``seconds``."""
    for index, bound in enumerate(DURATION_BUCKETS):
        if seconds <= bound:
            return index
    return len(DURATION_BUCKETS)


@dataclass(frozen=True)
class HubPing:
    """A WebSub notification to deliver; ``generation`` tells a re-queued one apart."""

    hub: str
    topic: str
    attempts: int
    generation: int


@dataclass(frozen=True)
class PendingPing:
    """A WebSub notification not delivered yet, as /metrics and editors see it."""

    topic: str
    attempts: int
    last_error: str | None


class ArchivePage(NamedTuple):
    """An RFC 5005 archive page of a feed: its number (1 = oldest) and the sequence numbers
    of its first and last items (items are numbered in the order they joined the feed)."""

    number: int
    first: int
    last: int
