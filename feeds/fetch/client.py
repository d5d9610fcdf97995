"""``Fetcher``: fetch feeds and ping WebSub hubs; failures are returned as values, never raised.

``Fetcher.fetch`` GETs a URL (conditionally when validators are given) with our user agent,
``Accept`` and ``Accept-Encoding`` headers, following redirects by hand, within a total
deadline and a size cap. Environment proxies and cookies are not used. It returns a
``FetchResult``; every exception met on the way becomes its ``error_kind`` and ``error``
(``describe``).

``Fetcher.post`` POSTs a body (a webhook's event) with the same user agent, deadline, address
policy and host politeness, following no redirects; ``Fetcher.notify_hub`` tells a WebSub hub
that a topic (a published feed) changed with one (``hub.mode=publish&hub.url=<topic>``). They
never raise; they return a ``HubResult``.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from urllib.parse import urlencode

import httpx

from feeds.errors import FetchError
from feeds.fetch.attempt import REDIRECT_STATUSES, Attempt, Headers, reason
from feeds.fetch.deadline import DeadlineScope
from feeds.fetch.gate import HostGate
from feeds.fetch.transport import Transport
from feeds.types import ErrorKind, FetchResult, FetchSettings
from feeds.urls import redact_urls

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate"
FORM_TYPE = "application/x-www-form-urlencoded"

# What a fetch may raise that is a problem of the fetch, not a bug of ours.
_FETCH_ERRORS = (
    FetchError,
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
    OSError,
    ValueError,
)


@dataclass(frozen=True)
class HubResult:
    """The outcome of one WebSub publish notification. Never raised: always returned."""

    ok: bool  # the hub answered 2xx
    status: int | None  # the hub's HTTP status; None when no answer arrived
    error: str | None  # a short human-readable reason when not ok


class Fetcher:
    """Fetches URLs with one shared, thread-safe connection pool. Use as a context manager.

    `per_host` and `host_spacing` (by default the settings' own) bound what the threads sharing
    this Fetcher send to one host: at most `per_host` requests at once, starting at least
    `host_spacing` seconds apart.
    """

    def __init__(
        self,
        settings: FetchSettings,
        *,
        per_host: int | None = None,
        host_spacing: float | None = None,
    ) -> None:
        self.settings = settings
        self._gate = HostGate(
            settings.per_host if per_host is None else per_host,
            settings.host_spacing if host_spacing is None else host_spacing,
        )
        self._transport = Transport(
            max_connections=max(1, settings.concurrency),
            allow_private=settings.allow_private_addresses,
            allowed=settings.allow_addresses,
        )
        common = [("User-Agent", settings.user_agent), ("Accept-Encoding", ACCEPT_ENCODING)]
        self._get_headers: Headers = [*common, ("Accept", ACCEPT)]
        self._hub_headers: Headers = [
            ("Accept-Encoding", ACCEPT_ENCODING),
            ("Accept", "*/*"),
            ("Content-Type", FORM_TYPE),
        ]

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). Never raises for fetch problems."""
        attempt = Attempt(url, self.settings, self._gate, self._transport)
        with DeadlineScope(attempt.deadline):
            try:
                return attempt.run(self._get_headers, etag, last_modified)
            except _FETCH_ERRORS as exc:
                kind, message = describe(exc, attempt)
                return attempt.failure(kind, message)

    def notify_hub(self, hub_url: str, topic_url: str) -> HubResult:
        """POST a WebSub publish ping for `topic_url` to `hub_url`; any 2xx is success.

        Same user agent, deadline, address policy and host politeness as ``fetch``; redirects
        are not followed (a 3xx is a failure). Never raises.
        """
        form = urlencode({"hub.mode": "publish", "hub.url": topic_url}).encode("ascii")
        return self.post(hub_url, form, self._hub_headers, what="hub")

    def post(
        self,
        url: str,
        content: bytes,
        headers: Sequence[tuple[str, str]],
        *,
        what: str = "receiver",
        deadline: float | None = None,
    ) -> HubResult:
        """POST ``content`` to ``url`` with our user agent and ``headers``; any 2xx is
        success (``what`` names the other end in errors). Same address policy and host
        politeness as ``fetch``, within ``deadline`` seconds (at most the fetch deadline);
        redirects are not followed (a 3xx is a failure). Never raises."""
        settings = self.settings
        if deadline is not None:
            settings = replace(settings, deadline=min(deadline, settings.deadline))
        attempt = Attempt(url, settings, self._gate, self._transport)
        sent = [("User-Agent", settings.user_agent), *headers]
        with DeadlineScope(attempt.deadline):
            try:
                with attempt.open_url(sent, method="POST", content=content) as response:
                    code = response.status_code
                    if 200 <= code < 300:
                        return HubResult(ok=True, status=code, error=None)
                    problem = f"{what} answered HTTP {code} {reason(response)}".rstrip()
                    if code in REDIRECT_STATUSES:
                        problem += " (redirects are not followed)"
                    return HubResult(ok=False, status=code, error=redact_urls(problem))
            except _FETCH_ERRORS as exc:
                _, message = describe(exc, attempt)
                return HubResult(ok=False, status=attempt.http_status, error=redact_urls(message))
            except Exception as exc:  # never raises: a hub ping must not break publishing
                error = redact_urls(f"{exc!r}")
                return HubResult(ok=False, status=attempt.http_status, error=error)

    @property
    def gate(self) -> HostGate:
        """The per-host politeness gate shared by the threads using this Fetcher."""
        return self._gate

    @property
    def hosts_tracked(self) -> int:
        """How many hosts the politeness gate currently remembers (for tests and metrics)."""
        return len(self._gate)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- errors


def describe(exc: Exception, attempt: Attempt) -> tuple[ErrorKind, str]:
    """(error_kind, message) for an exception raised while running `attempt`."""
    if isinstance(exc, FetchError):
        return exc.kind, str(exc)
    try:
        url = httpx.URL(attempt.url)
        host, netloc = url.host, url.netloc.decode("ascii")
    except (httpx.InvalidURL, ValueError):
        host = netloc = attempt.url
    if isinstance(exc, httpx.TimeoutException) or (
        attempt.deadline.expired() and isinstance(exc, httpx.TransportError | OSError)
    ):
        return ErrorKind.TIMEOUT, str(attempt.timeout_error())
    if isinstance(exc, httpx.ConnectError):
        return _describe_connect_error(exc, host, netloc)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ErrorKind.REFUSED, f"refused {attempt.url}: {exc}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return ErrorKind.NETWORK, f"protocol error with {netloc}: {exc}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return ErrorKind.NETWORK, f"connection to {netloc} lost: {str(exc) or type(exc).__name__}"
    return ErrorKind.NETWORK, f"{type(exc).__name__} fetching from {netloc}: {exc}"


def _describe_connect_error(
    exc: httpx.ConnectError, host: str, netloc: str
) -> tuple[ErrorKind, str]:
    cause = _root_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return (
            ErrorKind.TLS,
            f"TLS certificate verification failed for {host}: {cause.verify_message}",
        )
    if isinstance(cause, ssl.SSLError):
        return ErrorKind.TLS, f"TLS error with {host}: {getattr(cause, 'reason', None) or cause}"
    if isinstance(cause, socket.gaierror):
        return ErrorKind.DNS, f"cannot resolve {host}: {cause.strerror}"
    if isinstance(cause, ConnectionRefusedError):
        return ErrorKind.NETWORK, f"connection refused by {netloc}"
    if isinstance(cause, OSError) and cause.strerror:
        return ErrorKind.NETWORK, f"cannot connect to {netloc}: {cause.strerror}"
    return ErrorKind.NETWORK, f"cannot connect to {netloc}: {exc}"


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc
