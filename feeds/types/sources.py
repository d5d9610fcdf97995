"""A source's fetches and state: what one fetch gave, what a refresh made of it, as stored."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from feeds.types.config import Source


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
    # What the last parsed body had that could not be read (see ParsedFeed.warnings).
    warning: str | None = None
    # The [fetch] settings of the last fetch (a hash): a failure under other settings than
    # today's says nothing about today's, so its backoff does not hold.
    fetch_hash: str = ""


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
