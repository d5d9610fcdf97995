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

- A total deadline per fetch, kept in a thread-local while the fetch runs (one fetch per
  thread). The network backend under httpcore bounds every DNS lookup, connect, TLS
  handshake, socket read and write by the time remaining, on new and on pooled keep-alive
  connections alike, so a server that drips bytes (in the headers or the body) or a slow DNS
  server cannot hold a worker past the deadline.
- Bodies are inflated here, in bounded pieces, rather than by httpx (which inflates a whole
  network read at once: 64 KB of gzip can become 64 MB). The size cap applies to the
  decompressed bytes and no more than the cap is ever held.
- Host names are resolved once per new connection (in a helper thread, within the deadline);
  every address must be public (unless allowed), and the connection goes to one of those
  checked addresses, never through a second lookup (DNS rebinding). TLS still verifies the
  certificate against, and sends SNI for, the host name.
- Validators (ETag, Last-Modified) that are not printable ASCII are neither returned nor
  sent: httpx reads response headers as latin-1 but cannot send them back.
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

import concurrent.futures
import functools
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx

from .errors import FetchError
from .types import ErrorKind, FetchResult, FetchSettings, FetchStatus

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
DNS_THREADS = 16  # lookups at once, shared by every Fetcher of the process


# --------------------------------------------------------------------------- addresses

_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
# Not covered by ipaddress's is_global/is_private (in every Python version we support).
_NON_PUBLIC = (
    ipaddress.IPv4Network("192.88.99.0/24"),  # 6to4 relay anycast (RFC 7526)
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, RFC 3879)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
)


def is_public_address(ip: str) -> bool:
    """True when `ip` is a globally routable unicast address.

    IPv6 forms that carry an IPv4 address the packets really go to (IPv4-mapped, 6to4, NAT64
    with the well-known prefix, Teredo's server and client) are judged by that IPv4 address.
    """
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return _is_public(addr.ipv4_mapped)
        if addr in _SIX_TO_FOUR:
            return addr.sixtofour is not None and _is_public(addr.sixtofour)
        if addr in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
        if addr in _TEREDO:
            return addr.teredo is not None and all(_is_public(a) for a in addr.teredo)
    return _is_public(addr)


def _is_public(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        addr.is_global
        and not (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_reserved
            or addr.is_multicast
            or addr.is_unspecified
            or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
        )
        and not any(addr in net for net in _NON_PUBLIC if net.version == addr.version)
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (raises socket.gaierror)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(sockaddr[0]) for *_, sockaddr in infos]


_dns_lock = threading.Lock()
_dns_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _dns_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _dns_pool
    with _dns_lock:
        if _dns_pool is None:
            _dns_pool = concurrent.futures.ThreadPoolExecutor(
                DNS_THREADS, thread_name_prefix="feeds-dns"
            )
        return _dns_pool


def _lookup(host: str, port: int) -> list[str]:
    return resolve(host, port)  # looked up at call time, so tests can replace `resolve`


def checked_addresses(
    host: str, port: int, *, allow_private: bool, deadline_at: float | None = None
) -> list[str]:
    """The addresses to connect to for `host`, all public unless `allow_private`.

    A host name is resolved in a helper thread, waiting no later than `deadline_at`
    (time.monotonic()). Raises FetchError: DNS, TIMEOUT or REFUSED.
    """
    if _is_ip_literal(host):
        addresses = [host]
    else:
        future = _dns_executor().submit(_lookup, host, port)
        wait = None if deadline_at is None else max(deadline_at - time.monotonic(), 0.0)
        try:
            addresses = future.result(wait)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise FetchError(
                f"deadline exceeded while resolving {host}", ErrorKind.TIMEOUT
            ) from None
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve {host}: {exc.strerror}", ErrorKind.DNS) from exc
        except (UnicodeError, OSError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}", ErrorKind.DNS) from exc
        if not addresses:
            raise FetchError(f"cannot resolve {host}: no addresses", ErrorKind.DNS)
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise FetchError(
                    f"refused {host}: it resolves to non-public address {address}",
                    ErrorKind.REFUSED,
                )
    return addresses


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _target(url: httpx.URL) -> tuple[str, int]:
    """The host and port `url` connects to; refuses schemes other than http(s)."""
    if url.scheme not in SCHEMES:
        raise FetchError(f"refused {url}: only http and https URLs are fetched", ErrorKind.REFUSED)
    host = url.raw_host.decode("ascii")
    if not host:
        raise FetchError(f"refused {url}: no host", ErrorKind.REFUSED)
    return host, url.port or (443 if url.scheme == "https" else 80)


@functools.lru_cache(maxsize=4096)  # parsing is a measurable part of a 304 fetch
def _parse_url(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}", ErrorKind.REFUSED) from exc


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

_current = threading.local()  # .attempt: the _Attempt running on this thread, if any


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` shortened to the current fetch's time remaining; raises `error` at the end."""
    attempt: _Attempt | None = getattr(_current, "attempt", None)
    if attempt is None:
        return timeout
    remaining = attempt.deadline_at - time.monotonic()
    if remaining <= 0:
        raise error("deadline exceeded")
    return remaining if timeout is None or timeout > remaining else timeout


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake ends by the deadline."""

    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # httpcore passes the URL's host name here (SNI and certificate check), while the
        # TCP connection went to the checked address.
        timeout = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting to checked addresses, with deadline-bound streams."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        attempt: _Attempt | None = getattr(_current, "attempt", None)
        deadline_at = None if attempt is None else attempt.deadline_at
        try:
            addresses = checked_addresses(
                host, port, allow_private=self._allow_private, deadline_at=deadline_at
            )
        except FetchError as exc:
            if exc.kind is ErrorKind.TIMEOUT and attempt is not None:
                raise attempt.timeout_error(f"while resolving {host}") from None
            raise
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = self._sync.connect_tcp(
                    address,
                    port,
                    _bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:  # try the next address
                error = exc
                continue
            return _DeadlineStream(stream)
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - never configured
        raise FetchError("unix sockets are not used", ErrorKind.REFUSED)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - no retries configured
        time.sleep(seconds)


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
            raise FetchError(f"unsupported Content-Encoding {content_encoding!r}", ErrorKind.DECODE)
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
            raise FetchError(
                f"cannot decode {self.encoding} body: {exc}", ErrorKind.DECODE
            ) from exc

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


Headers = list[tuple[str, str]]


class _Attempt:
    """The state of one fetch: deadline, current URL, redirect history, bytes read."""

    __slots__ = (
        "deadline_at",
        "fetcher",
        "http_status",
        "permanent",
        "redirected",
        "settings",
        "size",
        "start",
        "url",
    )

    def __init__(self, fetcher: Fetcher, url: str) -> None:
        self.fetcher = fetcher
        self.settings = fetcher.settings
        self.url = url
        self.start = time.monotonic()
        self.deadline_at = self.start + self.settings.deadline
        self.size = 0
        self.permanent = True  # every hop so far was a 301/308
        self.redirected = False
        self.http_status: int | None = None  # of the latest response

    # ----------------------------------------------------------------- driving

    def run(self, etag: str | None, last_modified: str | None) -> FetchResult:
        etag, last_modified = _validator(etag), _validator(last_modified)
        headers = self.fetcher._get_headers
        if etag or last_modified:
            headers = [*headers, *_conditional_headers(etag, last_modified).items()]
        url = _parse_url(self.url)
        seen = {str(url)}
        for _ in range(self.settings.max_redirects + 1):
            with self._open(url, headers) as response:
                location = self._redirect_location(response)
                if location is None:
                    return self._finish(response, etag, last_modified)
            url = location
            target = str(url)
            if target in seen:
                raise FetchError(
                    f"redirect loop: {self.url} redirects back to {target}", ErrorKind.REDIRECTS
                )
            seen.add(target)
        raise FetchError(
            f"more than {self.settings.max_redirects} redirects (last to {url})",
            ErrorKind.REDIRECTS,
        )

    def open_url(
        self, headers: Headers, method: str = "GET", content: bytes | None = None
    ) -> _Exchange:
        """One request to `self.url`, no redirects followed."""
        return self._open(_parse_url(self.url), headers, method, content)

    def _open(
        self,
        url: httpx.URL,
        headers: Headers,
        method: str = "GET",
        content: bytes | None = None,
    ) -> _Exchange:
        self.url = str(url)
        host, port = _target(url)
        key = f"{host.lower()}:{port}"
        gate = self.fetcher._gate
        if not gate.acquire(key, self.deadline_at):
            deadline = f"{self.settings.deadline:g}s"
            raise FetchError(
                f"deadline of {deadline} exceeded while waiting to send a request to host {key}"
                f" (at most {gate.per_host} at once, {gate.spacing:g}s apart)",
                ErrorKind.TIMEOUT,
            )
        slot = _Slot(gate, key)
        try:
            remaining = self.deadline_at - time.monotonic()
            if remaining <= 0:
                raise self.timeout_error()
            # Connect, TLS, reads and writes are bounded by the network backend; the pool
            # timeout bounds waiting for a free connection.
            request = httpx.Request(
                method,
                url,
                headers=headers,
                content=content,
                extensions={"timeout": {"pool": remaining}},
            )
            response = self.fetcher._transport.handle_request(request)
            response.request = request
            return _Exchange(self, response, slot)
        except BaseException:
            slot.release()
            raise

    def _redirect_location(self, response: httpx.Response) -> httpx.URL | None:
        if response.status_code not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("location")
        if not location:
            return None
        try:
            target = response.url.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(
                f"invalid redirect Location {location!r}", ErrorKind.REDIRECTS
            ) from exc
        self.redirected = True
        self.permanent = self.permanent and response.status_code in PERMANENT_STATUSES
        return target

    # ----------------------------------------------------------------- answers

    def _finish(
        self, response: httpx.Response, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        code = response.status_code
        headers = response.headers
        if code == 304:
            # A 304 has no body, but the connection goes back to the pool only once the end
            # of the message has been read: without this every conditional GET reconnects.
            for _ in response.iter_raw():
                self._check_deadline()
            return self._result(
                response,
                FetchStatus.NOT_MODIFIED,
                etag=_validator(headers.get("etag")) or etag,
                last_modified=_validator(headers.get("last-modified")) or last_modified,
            )
        if not 200 <= code < 300:
            problem = f"HTTP {code} {_reason(response)}".rstrip()
            if code in REDIRECT_STATUSES:
                problem += " without a Location"
            return self._error(response, ErrorKind.HTTP, problem)
        body = self._read_body(response)
        return self._result(
            response,
            FetchStatus.OK,
            body=body,
            etag=_validator(headers.get("etag")),
            last_modified=_validator(headers.get("last-modified")),
        )

    def _read_body(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_bytes
        decoder = _Decoder(response.headers.get("content-encoding", ""))
        declared = response.headers.get("content-length", "")
        if decoder.encoding in ("", "identity") and declared.isdigit() and int(declared) > cap:
            raise FetchError(
                f"body of {declared} bytes exceeds the {cap}-byte cap", ErrorKind.TOO_LARGE
            )
        body = bytearray()
        for raw in response.iter_raw():
            self._check_deadline()
            for piece in decoder.decode(raw):
                self.size += len(piece)
                if self.size > cap:
                    raise FetchError(f"body exceeds the {cap}-byte cap", ErrorKind.TOO_LARGE)
                body += piece
            self._check_deadline()
        return bytes(body)

    def _check_deadline(self) -> None:
        if time.monotonic() >= self.deadline_at:
            raise self.timeout_error()

    def timeout_error(self, during: str = "") -> FetchError:
        deadline = f"{self.settings.deadline:g}s"
        during = during or f"after {self.size} bytes"
        return FetchError(f"deadline of {deadline} exceeded {during}", ErrorKind.TIMEOUT)

    def expired(self) -> bool:
        return time.monotonic() >= self.deadline_at

    # ----------------------------------------------------------------- results

    def _result(self, response: httpx.Response, status: FetchStatus, **fields: Any) -> FetchResult:
        moved = self.redirected and self.permanent and status is not FetchStatus.ERROR
        headers = response.headers
        url = self.url
        return FetchResult(
            status=status,
            url=url,
            http_status=response.status_code,
            content_type=headers.get("content-type"),
            permanent_url=url if moved else None,
            duration=time.monotonic() - self.start,
            size=self.size,
            retry_after=headers.get("retry-after"),
            headers=tuple(headers.multi_items()),
            **fields,
        )

    def _error(self, response: httpx.Response, kind: ErrorKind, message: str) -> FetchResult:
        return self._result(response, FetchStatus.ERROR, error=message, error_kind=kind)

    def failure(self, kind: ErrorKind, message: str) -> FetchResult:
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
    """A streamed response; on exit closes it (the connection returns to the pool when the
    message was read to its end) and frees its host slot."""

    __slots__ = ("response", "slot")

    def __init__(self, attempt: _Attempt, response: httpx.Response, slot: _Slot) -> None:
        self.response = response
        self.slot = slot
        attempt.http_status = response.status_code

    def __enter__(self) -> httpx.Response:
        return self.response

    def __exit__(self, *exc: object) -> None:
        try:
            self.response.close()
        finally:
            self.slot.release()


def _validator(value: str | None) -> str | None:
    """`value` if it can be sent back as a request header (printable ASCII), else None."""
    if value and value.isascii() and value.isprintable():
        return value
    return None


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


def _describe(exc: Exception, attempt: _Attempt) -> tuple[ErrorKind, str]:
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
    """Fetches URLs with one shared, thread-safe connection pool. Use as a context manager.

    `per_host` and `host_spacing` bound what the threads sharing this Fetcher send to one
    host: at most `per_host` requests at once, starting at least `host_spacing` seconds apart.
    """

    def __init__(
        self, settings: FetchSettings, *, per_host: int = 2, host_spacing: float = 0.5
    ) -> None:
        self.settings = settings
        self._gate = _HostGate(per_host, host_spacing)
        size = max(1, settings.concurrency)
        ssl_context = httpx.create_ssl_context(trust_env=False)
        # Requests go straight to the transport (no httpx.Client: no cookies, no environment
        # proxies, redirects handled here). httpx 0.28's HTTPTransport takes no network
        # backend, so its pool is replaced by the same pool over our deadline-bound backend.
        self._transport = httpx.HTTPTransport(verify=ssl_context, trust_env=False)
        self._transport._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=size,
            max_keepalive_connections=size,
            keepalive_expiry=KEEPALIVE_EXPIRY,
            network_backend=_Backend(settings.allow_private_addresses),
        )
        common = [("User-Agent", settings.user_agent), ("Accept-Encoding", ACCEPT_ENCODING)]
        self._get_headers: Headers = [*common, ("Accept", ACCEPT)]
        self._hub_headers: Headers = [*common, ("Accept", "*/*"), ("Content-Type", FORM_TYPE)]

    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given). Never raises for fetch problems."""
        attempt = _Attempt(self, url)
        previous = getattr(_current, "attempt", None)
        _current.attempt = attempt
        try:
            return attempt.run(etag, last_modified)
        except _FETCH_ERRORS as exc:
            kind, message = _describe(exc, attempt)
            return attempt.failure(kind, message)
        finally:
            _current.attempt = previous

    def notify_hub(self, hub_url: str, topic_url: str) -> HubResult:
        """POST a WebSub publish ping for `topic_url` to `hub_url`; any 2xx is success.

        Same user agent, deadline, address policy and host politeness as ``fetch``; redirects
        are not followed (a 3xx is a failure). Never raises.
        """
        attempt = _Attempt(self, hub_url)
        form = urlencode({"hub.mode": "publish", "hub.url": topic_url}).encode("ascii")
        previous = getattr(_current, "attempt", None)
        _current.attempt = attempt
        try:
            with attempt.open_url(self._hub_headers, method="POST", content=form) as response:
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
            _current.attempt = previous

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
