"""Our httpx transport: one httpcore connection pool over a safe, deadline-bound network.

``Transport`` is an ``httpx.BaseTransport`` (requests go straight to it: no ``httpx.Client``,
so no cookies, no environment proxies, redirects handled by the caller) around httpcore's
``ConnectionPool``, built through their public APIs only. What it adds to httpcore's own
synchronous network backend:

- New connections go to an address checked by ``addresses.checked_addresses`` (resolved once,
  public unless allowed), never through a second lookup; TLS still verifies the certificate
  against, and sends SNI for, the URL's host name.
- Every connect, TLS handshake, socket read and write is bounded by the time remaining to the
  fetch running on this thread (``deadline``), on new and on pooled keep-alive connections
  alike.

Responses are streamed: the caller reads them and closes them, which returns a connection
whose message was read to its end to the pool. httpcore's exceptions become httpx's public
ones of the same name, chained to the original (``raise ... from``).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from feeds.errors import FetchError
from feeds.fetch.addresses import checked_addresses
from feeds.fetch.deadline import bounded, current
from feeds.types import ErrorKind

KEEPALIVE_EXPIRY = 5.0

# httpcore exception -> httpx exception, the more specific first (the first match is used).
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx(exc: Exception) -> httpx.TransportError | None:
    """httpx's exception for httpcore's `exc`; None for any other exception."""
    for theirs, ours in _EXCEPTIONS:
        if isinstance(exc, theirs):
            return ours(str(exc))
    return None


class Transport(httpx.BaseTransport):
    """Sends httpx requests through one thread-safe httpcore connection pool.

    At most `max_connections` connections, all kept alive for reuse up to KEEPALIVE_EXPIRY
    seconds idle; private addresses are refused unless `allow_private`, link-local and metadata
    ones unless in `allowed` (see addresses.checked_addresses).
    """

    def __init__(
        self, *, max_connections: int, allow_private: bool, allowed: tuple[str, ...] = ()
    ) -> None:
        ssl_context = httpx.create_ssl_context(trust_env=False)
        self._connections = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY,
            network_backend=Backend(allow_private, allowed),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request`; the response's body is streamed (read it, then close it)."""
        url = request.url
        content = request.stream
        if not isinstance(content, httpx.SyncByteStream):
            raise TypeError("Transport sends synchronous requests only")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=content,
            extensions=request.extensions,
        )
        try:
            response = self._connections.handle_request(core_request)
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._connections.close()


class _ResponseStream(httpx.SyncByteStream):
    """The body of an httpcore response, as httpx reads it; closing it frees the connection."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_stream()
        except Exception as exc:
            mapped = _as_httpx(exc)
            if mapped is None:
                raise
            raise mapped from exc

    def close(self) -> None:
        self._response.close()


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every read, write and TLS handshake ends by the deadline."""

    __slots__ = ("_stream",)

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, bounded(timeout, httpcore.WriteTimeout))

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
        timeout = bounded(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class Backend(httpcore.NetworkBackend):
    """httpcore's sync backend, connecting to checked addresses, with deadline-bound streams."""

    def __init__(self, allow_private: bool, allowed: tuple[str, ...] = ()) -> None:
        self._allow_private = allow_private
        self._allowed = allowed
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        deadline = current()
        deadline_at = None if deadline is None else deadline.at
        try:
            addresses = checked_addresses(
                host,
                port,
                allow_private=self._allow_private,
                deadline_at=deadline_at,
                allowed=self._allowed,
            )
        except FetchError as exc:
            if exc.kind is ErrorKind.TIMEOUT and deadline is not None:
                raise deadline.error(f"while resolving {host}") from None
            raise
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                stream = self._sync.connect_tcp(
                    address,
                    port,
                    bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:  # try the next address
                error = exc
                continue
            return DeadlineStream(stream)
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
