"""Fetch upstream URLs politely and safely, and ping WebSub hubs: the only httpx user.

``Fetcher.fetch`` never raises for network or HTTP problems; it returns a ``FetchResult``
whose ``error_kind`` is one of:

- ``"timeout"``   the total deadline (waiting for the host + connect + headers + body) passed
- ``"too_large"`` the decompressed body passed ``max_bytes``
- ``"http"``      a 4xx/5xx (or unusable 1xx/3xx) answer; ``http_status`` is set
- ``"redirects"`` a redirect loop, too many redirects, or an unusable ``Location``
- ``"refused"``   not http(s), an invalid URL, or a non-public address (unless allowed)
- ``"dns"``       the host name does not resolve
- ``"tls"``       the TLS handshake or certificate verification failed
- ``"decode"``    an unsupported or corrupt Content-Encoding
- ``"network"``   any other transport problem (connection refused, reset, protocol error)

Safety measures:

- A total deadline per fetch. Every request gets a timeout equal to the time remaining, and
  a watchdog shuts the connection's socket down when the deadline passes, so a server that
  drips bytes (in the headers or the body) cannot hold a worker past the deadline.
- Bodies are inflated here, in bounded pieces, rather than by httpx (which inflates a whole
  network read at once: 64 KB of gzip can become 64 MB). The size cap applies to the
  decompressed bytes and no more than the cap is ever held.
- Non-public addresses are refused before connecting (every address the host resolves to, on
  every redirect hop) and again on the address actually connected to (DNS rebinding).
- Redirects are followed by hand; environment proxies and cookies are not used.

Politeness: the threads sharing one ``Fetcher`` send at most ``per_host`` requests at once to
one host (lower-cased host name and port; every redirect hop is a request to its own host),
and start two requests to the same host at least ``host_spacing`` seconds apart. Waiting for
a host is first come, first served and counts against the fetch's deadline; a fetch that
cannot start in time fails with ``"timeout"``. Idle hosts are forgotten, so memory stays
bounded however many hosts are fetched.

``Fetcher.notify_hub`` tells a WebSub hub that a topic (a published feed) changed: a POST of
``hub.mode=publish&hub.url=<topic>`` with the same user agent, deadline, address policy and
host politeness, following no redirects. It never raises; it returns a ``HubResult``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from .errors import FetchError
from .types import FetchResult, FetchSettings, FetchStatus

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/json;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_STATUSES = frozenset({301, 308})
SCHEMES = frozenset({"http", "https"})
PIECE = 64 * 1024  # the largest piece of decompressed body produced at once
KEEPALIVE_EXPIRY = 5.0
FORM_TYPE = "application/x-www-form-urlencoded"


# --------------------------------------------------------------------------- addresses


def is_public_address(ip: str) -> bool:
    """True when `ip` is a globally routable unicast address (IPv4-mapped IPv6 unwrapped)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in infos]


def check_host(host: str, port: int) -> None:
    """Raise FetchError("refused") unless every address of `host` is public."""
    try:
        addresses = resolve(host, port)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}", "dns") from exc
    except (UnicodeError, OSError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", "dns") from exc
    for address in addresses:
        if not is_public_address(address):
            raise FetchError(
                f"refused {host}: it resolves to non-public address {address}", "refused"
            )


def _target(url: httpx.URL) -> tuple[str, int]:
    """The host and port `url` connects to; refuses schemes other than http(s)."""
    if url.scheme not in SCHEMES:
        raise FetchError(f"refused {url}: only http and https URLs are fetched", "refused")
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"refused {url}: no host", "refused")
    return host, url.port or (443 if url.scheme == "https" else 80)


def _parse_url(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}", "refused") from exc


# --------------------------------------------------------------------------- politeness


def host_key(url: str | httpx.URL) -> str:
    """The politeness key of `url`: its lower-cased host name and port, e.g. "example.com:443"."""
    host, port = _target(url if isinstance(url, httpx.URL) else _parse_url(url))
    return f"{host.lower()}:{port}"


class _Host:
    """One host's politeness state: requests in flight, waiters in order, next allowed start."""

    __slots__ = ("active", "next_start", "queue")

    def __init__(self) -> None:
        self.active = 0
        self.next_start = 0.0  # time.monotonic() before which no request may start
        self.queue: deque[object] = deque()  # one token per waiting request, first come first

    def idle(self, now: float) -> bool:
        return self.active == 0 and not self.queue and self.next_start <= now


class _HostGate:
    """At most `per_host` requests in flight per host, starts `spacing` seconds apart.

    Shared by the threads of one Fetcher. Hosts are kept only while they have requests in
    flight, waiters, or a spacing window still open (idle ones are swept at every acquire),
    so memory is bounded by the number of threads plus the hosts started within `spacing`
    seconds before the latest request.
    """

    def __init__(self, per_host: int, spacing: float) -> None:
        if per_host < 1:
            raise ValueError(f"per_host must be at least 1, not {per_host}")
        if not spacing >= 0:  # also refuses NaN
            raise ValueError(f"host_spacing must be 0 or more seconds, not {spacing}")
        self.per_host = per_host
        self.spacing = spacing
        self._cond = threading.Condition()
        self._hosts: dict[str, _Host] = {}

    def acquire(self, key: str, deadline_at: float) -> bool:
        """Wait for a slot on host `key`; False if none could start before `deadline_at`."""
        token = object()
        with self._cond:
            now = time.monotonic()
            self._prune(now)
            host = self._hosts.setdefault(key, _Host())
            host.queue.append(token)
            try:
                while True:
                    now = time.monotonic()
                    first = host.queue[0] is token
                    free = host.active < self.per_host
                    if first and free and host.next_start <= now:
                        host.active += 1
                        host.next_start = now + self.spacing
                        return True
                    if now >= deadline_at or (first and free and host.next_start >= deadline_at):
                        return False
                    wait = deadline_at - now
                    if first and free:
                        wait = min(wait, host.next_start - now)
                    self._cond.wait(wait)
            finally:
                host.queue.remove(token)
                self._cond.notify_all()  # the next in line may go (or the slot was taken)
                self._forget_if_idle(key, host)

    def release(self, key: str) -> None:
        with self._cond:
            host = self._hosts.get(key)
            if host is None:  # pragma: no cover - acquire/release are always paired
                return
            host.active -= 1
            self._cond.notify_all()
            self._forget_if_idle(key, host)

    def __len__(self) -> int:
        """The number of hosts currently remembered."""
        with self._cond:
            return len(self._hosts)

    def _forget_if_idle(self, key: str, host: _Host) -> None:
        if host.idle(time.monotonic()) and self._hosts.get(key) is host:
            del self._hosts[key]

    def _prune(self, now: float) -> None:
        for key in [key for key, host in self._hosts.items() if host.idle(now)]:
            del self._hosts[key]


class _Slot:
    """A host slot held for one request; released exactly once."""

    def __init__(self, gate: _HostGate, key: str) -> None:
        self._gate = gate
        self._key: str | None = key

    def release(self) -> None:
        key, self._key = self._key, None
        if key is not None:
            self._gate.release(key)


# --------------------------------------------------------------------------- deadline


class _Watchdog:
    """Shuts down the watched socket when the deadline passes, waking any blocked read."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sock = sock
            if self.fired:
                _cut(sock)

    def release(self) -> None:
        """Stop watching (before the connection goes back to the pool)."""
        with self._lock:
            self._sock = None

    def cancel(self) -> None:
        self.release()
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _cut(self._sock)


def _cut(sock: socket.socket) -> None:
    # The plain socket method, also for SSLSocket (whose override would drop its SSL state
    # under the reading thread).
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


# --------------------------------------------------------------------------- decoding


class _Decoder:
    """Inflates a gzip/deflate body in pieces of at most PIECE bytes."""

    def __init__(self, content_encoding: str) -> None:
        self.encoding = content_encoding.strip().lower()
        self._raw_deflate_tried = False
        self._zlib: Any = None  # zlib._Decompress, not exposed by typeshed under a public name
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        elif self.encoding not in ("", "identity"):
            raise FetchError(f"unsupported Content-Encoding {content_encoding!r}", "decode")
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            if data:
                yield data
            return
        try:
            yield from self._inflate(data)
        except zlib.error as exc:
            if self.encoding == "deflate" and not self._started and not self._raw_deflate_tried:
                # "deflate" is often sent as a raw deflate stream without the zlib header.
                self._raw_deflate_tried = True
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                yield from self.decode(data)
                return
            raise FetchError(f"cannot decode {self.encoding} body: {exc}", "decode") from exc

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        while not self._zlib.eof:  # anything after the end of the stream is ignored
            out: bytes = self._zlib.decompress(data, PIECE)
            if out:
                self._started = True
                yield out
            data = self._zlib.unconsumed_tail
            if not data and len(out) < PIECE:
                return


# --------------------------------------------------------------------------- fetching


def _reason(response: httpx.Response) -> str:
    return httpx.codes.get_reason_phrase(response.status_code) or response.reason_phrase.strip()


class _Attempt:
    """The state of one fetch: deadline, current URL, redirect history, bytes read."""

    def __init__(
        self, client: httpx.Client, settings: FetchSettings, gate: _HostGate, url: str
    ) -> None:
        self.client = client
        self.settings = settings
        self.gate = gate
        self.url = url
        self.start = time.monotonic()
        self.deadline_at = self.start + settings.deadline
        self.size = 0
        self.permanent = True  # every hop so far was a 301/308
        self.redirected = False
        self.http_status: int | None = None  # of the latest response
        self.watchdog = _Watchdog(settings.deadline)

    # ----------------------------------------------------------------- driving

    def run(self, etag: str | None, last_modified: str | None) -> FetchResult:
        url = _parse_url(self.url)
        seen = {str(url)}
        conditional = _conditional_headers(etag, last_modified)
        for _ in range(self.settings.max_redirects + 1):
            self.url = str(url)
            with self._open(url, conditional) as response:
                location = self._redirect_location(response)
                if location is None:
                    return self._finish(response, etag, last_modified)
            url = location
            if str(url) in seen:
                raise FetchError(f"redirect loop: {self.url} redirects back to {url}", "redirects")
            seen.add(str(url))
        raise FetchError(
            f"more than {self.settings.max_redirects} redirects (last to {url})", "redirects"
        )

    def open_url(
        self, headers: dict[str, str], method: str = "GET", content: bytes | None = None
    ) -> _Exchange:
        """One request to `self.url`, no redirects followed."""
        return self._open(_parse_url(self.url), headers, method, content)

    def _open(
        self,
        url: httpx.URL,
        headers: dict[str, str],
        method: str = "GET",
        content: bytes | None = None,
    ) -> _Exchange:
        host, port = _target(url)
        if not self.settings.allow_private_addresses:
            check_host(host, port)
        key = host_key(url)
        if not self.gate.acquire(key, self.deadline_at):
            deadline = f"{self.settings.deadline:g}s"
            raise FetchError(
                f"deadline of {deadline} exceeded while waiting to send a request to host {key}"
                f" (at most {self.gate.per_host} at once, {self.gate.spacing:g}s apart)",
                "timeout",
            )
        slot = _Slot(self.gate, key)
        try:
            remaining = self.deadline_at - time.monotonic()
            if remaining <= 0:
                raise self.timeout_error()
            request = self.client.build_request(
                method,
                url,
                headers=headers,
                content=content,
                timeout=httpx.Timeout(remaining),
                extensions={"trace": self._trace},
            )
            return _Exchange(self, self.client.send(request, stream=True), slot)
        except BaseException:
            slot.release()
            raise

    def _redirect_location(self, response: httpx.Response) -> httpx.URL | None:
        location = response.headers.get("location")
        if response.status_code not in REDIRECT_STATUSES or not location:
            return None
        try:
            target = response.url.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"invalid redirect Location {location!r}", "redirects") from exc
        self.redirected = True
        self.permanent = self.permanent and response.status_code in PERMANENT_STATUSES
        return target

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: sees each new connection before the request is sent."""
        if event not in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            return
        stream = info["return_value"]
        if event == "connection.connect_tcp.complete" and not self.settings.allow_private_addresses:
            peer = stream.get_extra_info("server_addr")
            address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
            if not is_public_address(address):
                stream.close()
                host = httpx.URL(self.url).host
                raise FetchError(
                    f"refused {host}: connected to non-public address {address}", "refused"
                )
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            self.watchdog.watch(sock)

    # ----------------------------------------------------------------- answers

    def _finish(
        self, response: httpx.Response, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        code = response.status_code
        if code == 304:
            # A 304 has no body, but the connection goes back to the pool only once the end
            # of the message has been read: without this every conditional GET reconnects.
            for _ in response.iter_raw():
                self._check_deadline()
            return self._result(
                response,
                FetchStatus.NOT_MODIFIED,
                etag=response.headers.get("etag") or etag,
                last_modified=response.headers.get("last-modified") or last_modified,
            )
        if not 200 <= code < 300:
            problem = f"HTTP {code} {_reason(response)}".rstrip()
            if code in REDIRECT_STATUSES:
                problem += " without a Location"
            return self._error(response, "http", problem)
        body = self._read_body(response)
        return self._result(
            response,
            FetchStatus.OK,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )

    def _read_body(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_bytes
        decoder = _Decoder(response.headers.get("content-encoding", ""))
        declared = response.headers.get("content-length", "")
        if decoder.encoding in ("", "identity") and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"body of {declared} bytes exceeds the {cap}-byte cap", "too_large")
        body = bytearray()
        for raw in response.iter_raw():
            self._check_deadline()
            for piece in decoder.decode(raw):
                self.size += len(piece)
                if self.size > cap:
                    raise FetchError(f"body exceeds the {cap}-byte cap", "too_large")
                body += piece
            self._check_deadline()
        if self.watchdog.fired:  # the socket was cut: what arrived may be truncated
            raise self.timeout_error()
        return bytes(body)

    def _check_deadline(self) -> None:
        if self.watchdog.fired or time.monotonic() >= self.deadline_at:
            raise self.timeout_error()

    def timeout_error(self) -> FetchError:
        deadline = f"{self.settings.deadline:g}s"
        return FetchError(f"deadline of {deadline} exceeded after {self.size} bytes", "timeout")

    def expired(self) -> bool:
        return self.watchdog.fired or time.monotonic() >= self.deadline_at

    # ----------------------------------------------------------------- results

    def _result(self, response: httpx.Response, status: FetchStatus, **fields: Any) -> FetchResult:
        moved = self.redirected and self.permanent and status is not FetchStatus.ERROR
        return FetchResult(
            status=status,
            url=str(response.url),
            http_status=response.status_code,
            content_type=response.headers.get("content-type"),
            permanent_url=str(response.url) if moved else None,
            duration=time.monotonic() - self.start,
            size=self.size,
            retry_after=response.headers.get("retry-after"),
            headers=tuple(response.headers.multi_items()),
            **fields,
        )

    def _error(self, response: httpx.Response, kind: str, message: str) -> FetchResult:
        return self._result(response, FetchStatus.ERROR, error=message, error_kind=kind)

    def failure(self, kind: str, message: str) -> FetchResult:
        return FetchResult(
            status=FetchStatus.ERROR,
            url=self.url,
            http_status=self.http_status,
            error=message,
            error_kind=kind,
            duration=time.monotonic() - self.start,
            size=self.size,
        )


class _Exchange:
    """A streamed response; on exit stops the watchdog watching it, closes it, frees its slot."""

    def __init__(self, attempt: _Attempt, response: httpx.Response, slot: _Slot) -> None:
        self.attempt = attempt
        self.response = response
        self.slot = slot
        attempt.http_status = response.status_code
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):  # a reused connection had no connect event
            attempt.watchdog.watch(sock)

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        self.attempt.watchdog.release()
        try:
            self.response.close()
        finally:
            self.slot.release()


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _describe_connect_error(exc: httpx.ConnectError, host: str, netloc: str) -> tuple[str, str]:
    cause = _root_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return "tls", f"TLS certificate verification failed for {host}: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError):
        return "tls", f"TLS error with {host}: {cause.reason or cause}"
    if isinstance(cause, socket.gaierror):
        return "dns", f"cannot resolve {host}: {cause.strerror}"
    if isinstance(cause, ConnectionRefusedError):
        return "network", f"connection refused by {netloc}"
    if isinstance(cause, OSError) and cause.strerror:
        return "network", f"cannot connect to {netloc}: {cause.strerror}"
    return "network", f"cannot connect to {netloc}: {exc}"


def _describe(exc: Exception, attempt: _Attempt) -> tuple[str, str]:
    """(error_kind, message) for an exception raised while fetching."""
    if isinstance(exc, FetchError):
        return exc.kind, str(exc)
    try:
        url = httpx.URL(attempt.url)
        host, netloc = url.host, url.netloc.decode("ascii")
    except (httpx.InvalidURL, ValueError):
        host = netloc = attempt.url
    if isinstance(exc, httpx.TimeoutException) or (
        attempt.expired() and isinstance(exc, httpx.TransportError | OSError)
    ):
        return "timeout", str(attempt.timeout_error())
    if isinstance(exc, httpx.ConnectError):
        return _describe_connect_error(exc, host, netloc)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return "refused", f"refused {attempt.url}: {exc}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        return "network", f"protocol error with {netloc}: {exc}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "network", f"connection to {netloc} lost: {str(exc) or type(exc).__name__}"
    return "network", f"{type(exc).__name__} fetching from {netloc}: {exc}"


@dataclass(frozen=True)
class HubResult:
    """The outcome of one WebSub publish notification. Never raised: always returned."""

    ok: bool  # the hub answered 2xx
    status: int | None  # the hub's HTTP status; None when no answer arrived
    error: str | None  # a short human-readable reason when not ok


_FETCH_ERRORS = (
    FetchError,
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.StreamError,
    OSError,
    ValueError,
)


class Fetcher:
    """Fetches URLs with one shared, thread-safe httpx.Client. Use as a context manager.

    `per_host` and `host_spacing` bound what the threads sharing this Fetcher send to one
    host: at most `per_host` requests at once, starting at least `host_spacing` seconds apart.
    """

    def __init__(
        self, settings: FetchSettings, *, per_host: int = 2, host_spacing: float = 0.5
    ) -> None:
        self.settings = settings
        self._gate = _HostGate(per_host, host_spacing)
        pool = max(1, settings.concurrency)
        self._client = httpx.Client(
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            timeout=httpx.Timeout(settings.deadline),
            limits=httpx.Limits(
                max_connections=pool,
                max_keepalive_connections=pool,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
            follow_redirects=False,
            trust_env=False,
        )

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). Never raises for fetch problems."""
        attempt = _Attempt(self._client, self.settings, self._gate, url)
        try:
            return attempt.run(etag, last_modified)
        except _FETCH_ERRORS as exc:
            kind, message = _describe(exc, attempt)
            return attempt.failure(kind, message)
        finally:
            attempt.watchdog.cancel()

    def notify_hub(self, hub_url: str, topic_url: str) -> HubResult:
        """POST a WebSub publish ping for `topic_url` to `hub_url`; any 2xx is success.

        Same user agent, deadline, address policy and host politeness as ``fetch``; redirects
        are not followed (a 3xx is a failure). Never raises.
        """
        attempt = _Attempt(self._client, self.settings, self._gate, hub_url)
        form = urlencode({"hub.mode": "publish", "hub.url": topic_url}).encode("ascii")
        headers = {"Content-Type": FORM_TYPE, "Accept": "*/*"}
        try:
            with attempt.open_url(headers, method="POST", content=form) as response:
                code = response.status_code
                if 200 <= code < 300:
                    return HubResult(ok=True, status=code, error=None)
                problem = f"hub answered HTTP {code} {_reason(response)}".rstrip()
                if code in REDIRECT_STATUSES:
                    problem += " (redirects are not followed)"
                return HubResult(ok=False, status=code, error=problem)
        except _FETCH_ERRORS as exc:
            _, message = _describe(exc, attempt)
            return HubResult(ok=False, status=attempt.http_status, error=message)
        except Exception as exc:  # never raises: a hub ping must not break publishing
            return HubResult(ok=False, status=attempt.http_status, error=f"{exc!r}")
        finally:
            attempt.watchdog.cancel()

    @property
    def hosts_tracked(self) -> int:
        """How many hosts the politeness gate currently remembers (for tests and metrics)."""
        return len(self._gate)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
