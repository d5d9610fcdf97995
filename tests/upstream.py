"""A loopback upstream HTTP server for tests (a pytest plugin: see tests/conftest.py).

Tests never touch the internet; they fetch from an ``Upstream`` on 127.0.0.1 instead::

    def test_something(upstream, fetch_settings):
        upstream.set("/feed.xml", b"<rss/>", headers={"Content-Type": "application/rss+xml"},
                     etag='"v1"')
        with Fetcher(fetch_settings) as fetcher:
            result = fetcher.fetch(upstream.url("/feed.xml"))

Routes defined with ``set`` answer 304 to a matching If-None-Match / If-Modified-Since, after
``delay`` seconds when one is given (a slow upstream that does answer in the end).
Built-in misbehaving routes (``?interval=`` tunes the slow ones, default 0.5 s):

- ``/redirect/<301|302|303|307|308>?to=/x``  redirect to ``to``
- ``/loop``                 a 301 to itself
- ``/drip``                 headers, then 1 byte every interval for a long time
- ``/drip-headers``         the status line, then the headers 1 byte every interval
- ``/hang``                 reads the request and never answers
- ``/gzip/<path>``          the route at ``/<path>``, gzip-encoded
- ``/deflate/<path>``       the route at ``/<path>``, deflate-encoded (``?raw=1``: no zlib header)
- ``/bomb``                 ~50 KB of gzip inflating to 50 MB of zeros
- ``/big``                  50 MB streamed until the connection closes (``?length=1``: with
                            a Content-Length)
- ``/status/<code>``        that status; Retry-After: 120 for 429 and 503
- ``/slow?delay=0.3``       200 after ``delay`` seconds; every hit is recorded (``slow_hits``:
                            Host, start and end times) and the most requests in progress at once
                            is tracked per host (``max_active``). Any ``/slow/<name>`` works too.

POST requests are logged with their body (``Request.method``/``Request.body``) and answered by
``/status/<code>``, ``/redirect/<code>``, ``/slow`` or a route defined with ``set`` (its status
and body), so ``upstream.set("/hub", b"", status=204)`` makes a recording WebSub hub.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest

from feeds.types import FetchSettings

BIG_SIZE = 50 * 1024 * 1024
BOMB_SIZE = 50 * 1024 * 1024
CHUNK = 64 * 1024
DRIP_BYTES = 1000
REDIRECT_CODES = (301, 302, 303, 307, 308)
_QUIET_ERRORS = (ConnectionError, TimeoutError, OSError)


@functools.cache
def bomb_body() -> bytes:
    """gzip of BOMB_SIZE zero bytes, compressed piecewise (never 50 MB in memory)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


class Request(NamedTuple):
    """One request the upstream received: the path (with query), lower-cased headers, method and
    body (read for POST only), and when it came (time.monotonic())."""

    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""
    time: float = 0.0


class Hit(NamedTuple):
    """One request to ``/slow``: the host name it was sent to and when it ran (monotonic)."""

    host: str  # the Host header's name, lower-cased, without the port
    path: str
    start: float
    end: float


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before answering

    def not_modified(self, request_headers: dict[str, str]) -> bool:
        if_none_match = request_headers.get("if-none-match")
        if if_none_match is not None:  # takes precedence over If-Modified-Since
            tags = {tag.strip() for tag in if_none_match.split(",")}
            return self.etag is not None and ("*" in tags or self.etag in tags)
        since = request_headers.get("if-modified-since")
        return since is not None and since == self.last_modified


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True
    upstream: Upstream

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), which may do a slow reverse lookup.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, _QUIET_ERRORS):
            return
        self.upstream.errors.append(repr(exc))
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "upstream-test/1.0"
    timeout = 30  # a backstop for idle sockets; stop() shuts them down anyway
    server: _Server

    # ----------------------------------------------------------------- plumbing

    @property
    def upstream(self) -> Upstream:
        return self.server.upstream

    def setup(self) -> None:
        super().setup()
        self.upstream._track(self.connection, add=True)

    def handle(self) -> None:
        try:
            super().handle()
        except _QUIET_ERRORS:  # the client went away, or the server is stopping
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except _QUIET_ERRORS:
            pass
        finally:
            self.upstream._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request logs on stderr

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        bodyless = status in (204, 304)
        self.send_response(status)
        names = {name.lower() for name in headers or {}}
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "content-length" not in names and not bodyless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and not bodyless:
            self.wfile.write(body)

    def _stopping(self, seconds: float) -> bool:
        return self.upstream.stopping.wait(seconds)

    # ----------------------------------------------------------------- routing

    def do_GET(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.upstream._log(Request(self.path, headers))
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        interval = float(query.get("interval", ["0.5"])[0])
        first, _, rest = path.lstrip("/").partition("/")
        if first == "redirect" and rest.isdigit():
            self._send(int(rest), headers={"Location": query.get("to", ["/"])[0]})
        elif path == "/loop":
            self._send(301, headers={"Location": "/loop"})
        elif path == "/drip":
            self._drip(interval)
        elif path == "/drip-headers":
            self._drip_headers(interval)
        elif path == "/hang":
            self._stopping(3600)
            self.close_connection = True
        elif first in ("gzip", "deflate"):
            self._encoded(first, "/" + rest, raw="raw" in query, request_headers=headers)
        elif path == "/bomb":
            self._send(200, bomb_body(), {"Content-Encoding": "gzip", "Content-Type": "text/xml"})
        elif path == "/big":
            self._big("length" in query)
        elif first == "status" and rest.isdigit():
            self._status(int(rest))
        elif first == "slow":
            self._slow(float(query.get("delay", ["0.3"])[0]), headers)
        else:
            self._route(path, headers)

    def do_POST(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = headers.get("content-length", "0")
        body = self.rfile.read(min(int(length), 1024 * 1024)) if length.isdigit() else b""
        self.upstream._log(Request(self.path, headers, "POST", body))
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        first, _, rest = path.lstrip("/").partition("/")
        if first == "redirect" and rest.isdigit():
            self._send(int(rest), headers={"Location": query.get("to", ["/"])[0]})
        elif first == "status" and rest.isdigit():
            self._status(int(rest))
        elif first == "slow":
            self._slow(float(query.get("delay", ["0.3"])[0]), headers)
        else:
            route = self.upstream.route(path)
            if route is None:
                self._send(404, b"not found\n")
            else:
                self._send(route.status, route.body, route.headers)

    def _status(self, code: int) -> None:
        extra = {"Retry-After": "120"} if code in (429, 503) else {}
        self._send(code, f"status {code}\n".encode(), extra)

    def _slow(self, delay: float, request_headers: dict[str, str]) -> None:
        host = urlsplit("//" + request_headers.get("host", "")).hostname or ""
        start = self.upstream._slow_begin(host)
        try:
            self._stopping(delay)
        finally:
            self.upstream._slow_end(Hit(host, self.path, start, time.monotonic()))
        self._send(200, b"slow\n", {"Content-Type": "text/plain"})

    def _route(self, path: str, request_headers: dict[str, str]) -> None:
        route = self.upstream.route(path)
        if route is None:
            self._send(404, b"not found\n")
            return
        if route.delay and self._stopping(route.delay):
            self.close_connection = True
            return
        validators = {}
        if route.etag is not None:
            validators["ETag"] = route.etag
        if route.last_modified is not None:
            validators["Last-Modified"] = route.last_modified
        if route.not_modified(request_headers):
            self._send(304, headers=validators)
        else:
            self._send(route.status, route.body, {**route.headers, **validators})

    def _encoded(
        self, encoding: str, path: str, *, raw: bool, request_headers: dict[str, str]
    ) -> None:
        route = self.upstream.route(path)
        if route is None:
            self._send(404, b"not found\n")
            return
        if encoding == "gzip":
            body = gzip.compress(route.body)
        else:
            compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
            body = compressor.compress(route.body) + compressor.flush()
        headers = {**route.headers, "Content-Encoding": encoding}
        if route.etag is not None:
            headers["ETag"] = route.etag
        self._send(route.status, body, headers)

    def _drip(self, interval: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(DRIP_BYTES))
        self.end_headers()
        for _ in range(DRIP_BYTES):
            if self._stopping(interval):
                break
            self.wfile.write(b"x")
        self.close_connection = True

    def _drip_headers(self, interval: float) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(DRIP_BYTES):
            if self._stopping(interval):
                break
            self.wfile.write(b"x")
        self.close_connection = True

    def _big(self, with_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if with_length:
            self.send_header("Content-Length", str(BIG_SIZE))
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"x" * CHUNK
        for _ in range(BIG_SIZE // CHUNK):
            if self.upstream.stopping.is_set():
                break
            self.wfile.write(chunk)
        self.close_connection = True


class Upstream:
    """A threaded HTTP server on 127.0.0.1 with routes defined at runtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        self._requests: list[Request] = []
        self._connections: set[socket.socket] = set()
        self._slow_hits: list[Hit] = []
        self._active: dict[str, int] = {}  # /slow requests in progress, per host name
        self._max_active: dict[str, int] = {}
        self._max_active_total = 0
        self.connections_opened = 0  # connections accepted so far (keep-alive reuse shows)
        self.errors: list[str] = []  # unexpected handler exceptions
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.upstream = self
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Upstream:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake slow handlers, join them and close every socket."""
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wakes handlers blocked reading a kept-alive socket
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()  # joins the handler threads

    def __enter__(self) -> Upstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- routes

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def set(
        self,
        path: str,
        body: bytes,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """(Re)define the response at `path` (no query string), sent after `delay` seconds."""
        route = Route(body, status, dict(headers or {}), etag, last_modified, delay)
        with self._lock:
            self._routes[path] = route

    def route(self, path: str) -> Route | None:
        with self._lock:
            return self._routes.get(path)

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._requests.clear()
            self._slow_hits.clear()
            self._max_active.clear()
            self._max_active_total = 0

    # ----------------------------------------------------------------- log

    @property
    def requests(self) -> list[Request]:
        """A copy of the (path, headers) log, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if urlsplit(r.path).path == path]

    @property
    def slow_hits(self) -> list[Hit]:
        """Every finished ``/slow`` request, in order of start."""
        with self._lock:
            return sorted(self._slow_hits, key=lambda hit: hit.start)

    def max_active(self, host: str | None = None) -> int:
        """The most ``/slow`` requests ever in progress at once (to `host`, or to any host)."""
        with self._lock:
            return self._max_active_total if host is None else self._max_active.get(host, 0)

    def _slow_begin(self, host: str) -> float:
        with self._lock:
            self._active[host] = self._active.get(host, 0) + 1
            self._max_active[host] = max(self._max_active.get(host, 0), self._active[host])
            self._max_active_total = max(self._max_active_total, sum(self._active.values()))
            return time.monotonic()

    def _slow_end(self, hit: Hit) -> None:
        with self._lock:
            self._active[hit.host] -= 1
            self._slow_hits.append(hit)

    def _log(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request._replace(time=time.monotonic()))

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
                self.connections_opened += 1
            else:
                self._connections.discard(connection)


# --------------------------------------------------------------------------- fixtures


def make_fetch_settings(**overrides: Any) -> FetchSettings:
    """FetchSettings for tests: loopback allowed, a 2 s deadline, a test user agent."""
    values: dict[str, Any] = {
        "user_agent": "feeds-tests/1.0",
        "deadline": 2.0,
        "allow_private_addresses": True,
    }
    values.update(overrides)
    return FetchSettings(**values)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fetch_settings() -> FetchSettings:
    return make_fetch_settings()
