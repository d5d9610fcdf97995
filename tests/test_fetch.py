"""feeds.fetch against the loopback upstream (tests/upstream.py)."""

from __future__ import annotations

import itertools
import socket
import ssl
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from feeds.errors import FetchError
from feeds.fetch import ACCEPT, Fetcher, addresses, host_key, is_public_address
from feeds.fetch.addresses import checked_addresses
from feeds.fetch.transport import Transport
from feeds.types import FetchResult, FetchSettings, FetchStatus
from tests.upstream import BIG_SIZE, Upstream, bomb_body, make_fetch_settings

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"

FetchWith = Callable[..., FetchResult]


@pytest.fixture
def fetcher(fetch_settings: FetchSettings) -> Iterator[Fetcher]:
    with Fetcher(fetch_settings) as f:
        yield f


@pytest.fixture
def fetch_with() -> Iterator[FetchWith]:
    """fetch_with(url, etag=None, last_modified=None, **settings) with a throwaway Fetcher.

    `per_host` and `host_spacing` among the keywords go to the Fetcher, the rest to its settings.
    """
    fetchers: list[Fetcher] = []

    def run(
        url: str, etag: str | None = None, last_modified: str | None = None, **kw: Any
    ) -> FetchResult:
        politeness = {k: kw.pop(k) for k in ("per_host", "host_spacing") if k in kw}
        f = Fetcher(make_fetch_settings(**kw), **politeness)
        fetchers.append(f)
        return f.fetch(url, etag, last_modified)

    yield run
    for f in fetchers:
        f.close()


@pytest.fixture
def feed(upstream: Upstream) -> str:
    upstream.set(
        "/feed.xml",
        RSS,
        headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        etag=ETAG,
        last_modified=LAST_MODIFIED,
    )
    return upstream.url("/feed.xml")


def assert_error(result: FetchResult, kind: str) -> None:
    assert result.status is FetchStatus.ERROR, result
    assert result.error_kind == kind, result
    assert result.error
    assert result.body is None


# --------------------------------------------------------------------------- success


def test_ok_with_body_and_validators(fetcher: Fetcher, feed: str) -> None:
    result = fetcher.fetch(feed)
    assert result.status is FetchStatus.OK
    assert result.url == feed
    assert result.http_status == 200
    assert result.body == RSS
    assert result.size == len(RSS)
    assert result.etag == ETAG
    assert result.last_modified == LAST_MODIFIED
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert ("etag", ETAG) in result.headers
    assert all(name == name.lower() for name, _ in result.headers)
    assert result.error is None and result.error_kind is None
    assert result.permanent_url is None
    assert 0 < result.duration < 2


def test_request_headers(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    fetcher.fetch(feed)
    (request,) = upstream.requests
    assert request.path == "/feed.xml"
    assert request.headers["user-agent"] == "feeds-tests/1.0"
    assert request.headers["accept"] == ACCEPT
    assert request.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in request.headers
    assert "cookie" not in request.headers


def test_conditional_get_etag(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    result = fetcher.fetch(feed, etag=ETAG)
    assert result.status is FetchStatus.NOT_MODIFIED
    assert result.http_status == 304
    assert result.body is None
    assert result.etag == ETAG
    assert result.error is None
    assert upstream.requests[-1].headers["if-none-match"] == ETAG


def test_conditional_get_last_modified(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    result = fetcher.fetch(feed, last_modified=LAST_MODIFIED)
    assert result.status is FetchStatus.NOT_MODIFIED
    assert result.last_modified == LAST_MODIFIED
    assert upstream.requests[-1].headers["if-modified-since"] == LAST_MODIFIED


def test_conditional_get_changed(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    upstream.set("/feed.xml", RSS + b"\n", etag='"v2"')
    result = fetcher.fetch(feed, etag=ETAG)
    assert result.status is FetchStatus.OK
    assert result.etag == '"v2"'
    assert result.body == RSS + b"\n"


def test_not_modified_without_validators_keeps_the_given_ones(
    fetcher: Fetcher, upstream: Upstream
) -> None:
    upstream.set("/bare", b"", status=304)
    result = fetcher.fetch(upstream.url("/bare"), etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.status is FetchStatus.NOT_MODIFIED
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


def test_not_modified_reuses_the_connection(
    fetcher: Fetcher, feed: str, upstream: Upstream
) -> None:
    results = [fetcher.fetch(feed, etag=ETAG) for _ in range(3)]
    assert [r.status for r in results] == [FetchStatus.NOT_MODIFIED] * 3
    assert upstream.connections_opened == 1


def test_non_ascii_validators_are_dropped(fetcher: Fetcher, upstream: Upstream) -> None:
    # httpx reads headers as latin-1 but sends them as ASCII: storing these would make every
    # later conditional GET fail before it is sent.
    upstream.set("/latin", RSS, etag='"é"', last_modified="Mon, 01 Jan 2024 00:00:00 GMTé")
    first = fetcher.fetch(upstream.url("/latin"))
    assert first.status is FetchStatus.OK
    assert ("etag", '"é"') in first.headers  # the bytes were latin-1
    assert (first.etag, first.last_modified) == (None, None)
    # A source that stored one earlier: fetched unconditionally, not failed for good.
    again = fetcher.fetch(upstream.url("/latin"), etag='"é"', last_modified="lundi é")
    assert again.status is FetchStatus.OK
    assert again.body == RSS
    request = upstream.requests[-1].headers
    assert "if-none-match" not in request and "if-modified-since" not in request


@pytest.mark.parametrize("bad", ['"é"', '"a\x01b"', '"a\tb"', '"\x7f"', "\u2603"])
def test_unsendable_validators_are_not_sent(
    fetcher: Fetcher, feed: str, upstream: Upstream, bad: str
) -> None:
    result = fetcher.fetch(feed, etag=bad, last_modified=LAST_MODIFIED)
    assert result.status is FetchStatus.NOT_MODIFIED  # by If-Modified-Since alone
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)
    assert "if-none-match" not in upstream.requests[-1].headers
    result = fetcher.fetch(feed, etag=ETAG, last_modified=bad)
    assert result.status is FetchStatus.NOT_MODIFIED
    assert "if-modified-since" not in upstream.requests[-1].headers


def test_not_modified_with_unsendable_validators_keeps_the_given_ones(
    fetcher: Fetcher, upstream: Upstream
) -> None:
    upstream.set("/v", b"", status=304, headers={"ETag": '"ü"', "Last-Modified": "ü"})
    result = fetcher.fetch(upstream.url("/v"), etag=ETAG, last_modified=LAST_MODIFIED)
    assert result.status is FetchStatus.NOT_MODIFIED
    assert (result.etag, result.last_modified) == (ETAG, LAST_MODIFIED)


def test_gzip_is_decoded(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/gzip/feed.xml"))
    assert result.status is FetchStatus.OK
    assert result.body == RSS
    assert result.size == len(RSS)
    assert ("content-encoding", "gzip") in result.headers


@pytest.mark.parametrize("query", ["", "?raw=1"])
def test_deflate_is_decoded(fetcher: Fetcher, feed: str, upstream: Upstream, query: str) -> None:
    result = fetcher.fetch(upstream.url("/deflate/feed.xml" + query))
    assert result.status is FetchStatus.OK
    assert result.body == RSS


def test_corrupt_gzip(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/broken", b"this is not gzip", headers={"Content-Encoding": "gzip"})
    result = fetcher.fetch(upstream.url("/broken"))
    assert_error(result, "decode")
    assert result.http_status == 200


def test_unsupported_encoding(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/br", b"\x00\x01", headers={"Content-Encoding": "br"})
    assert_error(fetcher.fetch(upstream.url("/br")), "decode")


def test_large_body_under_the_cap(fetch_with: FetchWith, upstream: Upstream) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    upstream.set("/large", body)
    upstream.set("/large-z", body)
    assert fetch_with(upstream.url("/large"), max_bytes=len(body)).body == body
    assert fetch_with(upstream.url("/gzip/large-z"), max_bytes=len(body)).body == body


# --------------------------------------------------------------------------- deadline


@pytest.mark.parametrize("path", ["/drip", "/drip-headers", "/hang"])
def test_deadline_cuts_slow_servers(fetch_with: FetchWith, upstream: Upstream, path: str) -> None:
    start = time.monotonic()
    result = fetch_with(upstream.url(path), deadline=1.0)
    elapsed = time.monotonic() - start
    assert_error(result, "timeout")
    assert result.error is not None and result.error.startswith("deadline of 1s exceeded after")
    assert 0.9 <= elapsed < 1.0 + 1.5
    assert result.duration < 1.0 + 1.5


def test_drip_reports_bytes_read(fetch_with: FetchWith, upstream: Upstream) -> None:
    result = fetch_with(upstream.url("/drip?interval=0.1"), deadline=1.0)
    assert_error(result, "timeout")
    assert result.size > 0
    assert f"after {result.size} bytes" in (result.error or "")


@pytest.mark.parametrize("path", ["/drip-headers?interval=0.02", "/drip?interval=0.02", "/hang"])
def test_deadline_on_a_reused_connection(feed: str, upstream: Upstream, path: str) -> None:
    # A 200, then a second request on the same kept-alive connection whose answer drips.
    with Fetcher(make_fetch_settings(deadline=1.0), host_spacing=0) as f:
        assert f.fetch(feed).status is FetchStatus.OK
        start = time.monotonic()
        result = f.fetch(upstream.url(path))
        elapsed = time.monotonic() - start
    assert_error(result, "timeout")
    assert (result.error or "").startswith("deadline of 1s exceeded after")
    assert upstream.connections_opened == 1  # it really was the pooled connection
    assert 0.9 <= elapsed < 1.0 + 0.5


def test_deadline_watchdog_does_not_cut_pooled_connections(
    fetch_with: FetchWith, feed: str
) -> None:
    with Fetcher(make_fetch_settings(deadline=0.3)) as f:
        first = f.fetch(feed)
        time.sleep(0.5)  # the first fetch's deadline has passed; its connection is pooled
        second = f.fetch(feed)
    assert first.status is FetchStatus.OK
    assert second.status is FetchStatus.OK


# --------------------------------------------------------------------------- size cap


def test_size_cap_streamed(fetch_with: FetchWith, upstream: Upstream) -> None:
    start = time.monotonic()
    result = fetch_with(upstream.url("/big"), max_bytes=1024 * 1024)
    assert_error(result, "too_large")
    assert time.monotonic() - start < 2
    assert 1024 * 1024 < result.size < 2 * 1024 * 1024
    assert result.http_status == 200


def test_size_cap_declared_length(fetch_with: FetchWith, upstream: Upstream) -> None:
    result = fetch_with(upstream.url("/big?length=1"), max_bytes=1024 * 1024)
    assert_error(result, "too_large")
    assert str(BIG_SIZE) in (result.error or "")
    assert result.size == 0


@pytest.mark.parametrize("path", ["/bomb", "/big"])
def test_size_cap_bounds_memory(fetch_with: FetchWith, upstream: Upstream, path: str) -> None:
    bomb_body()  # generated once, outside the measurement
    cap = 1024 * 1024
    tracemalloc.start()
    try:
        start = time.monotonic()
        result = fetch_with(upstream.url(path), max_bytes=cap)
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_error(result, "too_large")
    assert elapsed < 2
    assert peak < 8 * cap, f"peak traced memory {peak} bytes"


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("code", [301, 308])
def test_permanent_redirect(fetcher: Fetcher, feed: str, upstream: Upstream, code: int) -> None:
    result = fetcher.fetch(upstream.url(f"/redirect/{code}?to=/feed.xml"))
    assert result.status is FetchStatus.OK
    assert result.url == feed
    assert result.permanent_url == feed
    assert result.body == RSS


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect(fetcher: Fetcher, feed: str, upstream: Upstream, code: int) -> None:
    result = fetcher.fetch(upstream.url(f"/redirect/{code}?to=/feed.xml"))
    assert result.status is FetchStatus.OK
    assert result.url == feed
    assert result.permanent_url is None


def test_permanent_after_temporary(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    url = upstream.url("/redirect/302?to=/redirect/301%3Fto%3D/feed.xml")
    result = fetcher.fetch(url)
    assert result.status is FetchStatus.OK
    assert result.url == feed
    assert result.permanent_url is None
    assert [r.path for r in upstream.requests][-1] == "/feed.xml"


def test_temporary_after_permanent(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/redirect/301?to=/redirect/307%3Fto%3D/feed.xml"))
    assert result.status is FetchStatus.OK
    assert result.permanent_url is None


def test_two_permanent_redirects(fetcher: Fetcher, feed: str, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/redirect/308?to=/redirect/301%3Fto%3D/feed.xml"))
    assert result.permanent_url == feed


def test_permanent_redirect_to_an_error_is_not_a_move(fetcher: Fetcher, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/redirect/301?to=/missing"))
    assert_error(result, "http")
    assert result.http_status == 404
    assert result.url == upstream.url("/missing")
    assert result.permanent_url is None


def test_redirect_loop(fetcher: Fetcher, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/loop"))
    assert_error(result, "redirects")
    assert len(upstream.requests) == 1


def test_too_many_redirects(fetch_with: FetchWith, feed: str, upstream: Upstream) -> None:
    hops = ["/feed.xml"]
    for _ in range(3):
        hops.append("/redirect/302?to=" + hops[-1].replace("?", "%3F").replace("=", "%3D"))
    # three redirects: fine with max_redirects=3, too many with 2 (no host spacing: four
    # requests to one host 0.5 s apart would come close to the 2 s deadline)
    url = upstream.url(hops[-1])
    assert fetch_with(url, max_redirects=3, host_spacing=0).status is FetchStatus.OK
    assert_error(fetch_with(url, max_redirects=2, host_spacing=0), "redirects")


def test_redirect_without_location(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/nowhere", b"", status=301)
    result = fetcher.fetch(upstream.url("/nowhere"))
    assert_error(result, "http")
    assert result.http_status == 301


def test_redirect_to_other_scheme_refused(fetcher: Fetcher, upstream: Upstream) -> None:
    result = fetcher.fetch(upstream.url("/redirect/302?to=file:///etc/passwd"))
    assert_error(result, "refused")


# --------------------------------------------------------------------------- HTTP errors


@pytest.mark.parametrize(
    ("code", "message", "retry_after"),
    [
        (404, "HTTP 404 Not Found", None),
        (410, "HTTP 410 Gone", None),
        (429, "HTTP 429 Too Many Requests", "120"),
        (500, "HTTP 500 Internal Server Error", None),
        (503, "HTTP 503 Service Unavailable", "120"),
    ],
)
def test_http_errors(
    fetcher: Fetcher, upstream: Upstream, code: int, message: str, retry_after: str | None
) -> None:
    url = upstream.url(f"/status/{code}")
    result = fetcher.fetch(url)
    assert_error(result, "http")
    assert result.http_status == code
    assert result.error == message
    assert result.retry_after == retry_after
    assert result.url == url


# --------------------------------------------------------------------------- transport errors


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetcher.fetch(f"http://127.0.0.1:{port}/feed.xml")
    assert_error(result, "network")
    assert "refused" in (result.error or "")
    assert result.http_status is None


@pytest.mark.parametrize("allow", [True, False])
def test_dns_failure(fetch_with: FetchWith, monkeypatch: pytest.MonkeyPatch, allow: bool) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    result = fetch_with("http://feeds.example.invalid/rss", allow_private_addresses=allow)
    assert_error(result, "dns")
    assert "feeds.example.invalid" in (result.error or "")


@pytest.mark.parametrize("allow", [True, False])
def test_slow_dns_is_bounded_by_the_deadline(
    fetch_with: FetchWith, monkeypatch: pytest.MonkeyPatch, allow: bool
) -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["127.0.0.1"]

    monkeypatch.setattr(addresses, "resolve", slow)
    start = time.monotonic()
    result = fetch_with(
        "http://slow-dns.test/feed.xml", deadline=1.0, allow_private_addresses=allow
    )
    elapsed = time.monotonic() - start
    assert_error(result, "timeout")
    assert result.error == "deadline of 1s exceeded while resolving slow-dns.test"
    assert elapsed < 1.0 + 0.5


def test_tls_sni_and_certificate_use_the_host_name(
    fetch_with: FetchWith, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The TCP connection goes to the checked address; TLS is told the host name.
    seen: list[tuple[str | None, str]] = []

    def spy(self: ssl.SSLContext, sock: socket.socket, **kw: Any) -> Any:
        seen.append((kw.get("server_hostname"), sock.getpeername()[0]))
        raise ssl.SSLError("spied")

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(ssl.SSLContext, "wrap_socket", spy)
    result = fetch_with(f"https://feeds.test:{upstream.port}/feed.xml")
    assert_error(result, "tls")
    assert seen == [("feeds.test", "127.0.0.1")]


def test_tls_error(fetcher: Fetcher, upstream: Upstream) -> None:
    # TLS to a plain-HTTP server: the handshake fails.
    result = fetcher.fetch(f"https://127.0.0.1:{upstream.port}/feed.xml")
    assert_error(result, "tls")


def test_server_closes_without_answering(fetcher: Fetcher) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with ThreadPoolExecutor(1) as pool:

            def accept_and_close() -> None:
                conn, _ = listener.accept()
                conn.recv(65536)
                conn.close()

            future = pool.submit(accept_and_close)
            result = fetcher.fetch(f"http://127.0.0.1:{port}/")
            future.result()
    assert_error(result, "network")


def test_transport_is_an_httpx_transport(feed: str) -> None:
    # Our transport over httpcore's pool serves an ordinary httpx.Client too.
    with httpx.Client(transport=Transport(max_connections=1, allow_private=True)) as client:
        response = client.get(feed)
    assert response.status_code == 200
    assert response.reason_phrase == "OK"
    assert response.headers["etag"] == ETAG
    assert response.content == RSS


def test_transport_raises_httpx_errors_chained_to_httpcore() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        Transport(max_connections=1, allow_private=True) as transport,
        pytest.raises(httpx.ConnectError) as info,
    ):
        transport.handle_request(httpx.Request("GET", f"http://127.0.0.1:{port}/"))
    cause = info.value.__cause__
    assert cause is not None and type(cause).__module__.startswith("httpcore")
    assert str(info.value) == str(cause)


# --------------------------------------------------------------------------- address policy


@pytest.mark.parametrize(
    ("ip", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        # 6to4: judged by the embedded IPv4 address
        ("2002:a00:1::1", False),  # 10.0.0.1
        ("2002:7f00:1::1", False),  # 127.0.0.1
        ("2002:c0a8:101::1", False),  # 192.168.1.1
        ("2002:a9fe:a9fe::1", False),  # 169.254.169.254
        ("2002:5db8:d822::1", True),  # 93.184.216.34
        ("192.88.99.1", False),  # 6to4 relay anycast
        ("fec0::1", False),  # site-local
        ("feff::1", False),
        # Teredo: server and client judged
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # client 192.0.2.45
        ("2001:0:5db8:d822::80ff:fffe", False),  # client 127.0.0.1 (obfuscated)
        ("2001::1", False),
        # NAT64 well-known prefix: judged by the embedded IPv4 address
        ("64:ff9b::a00:1", False),  # 10.0.0.1
        ("64:ff9b::7f00:1", False),  # 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # 169.254.169.254
        ("64:ff9b::5db8:d822", True),  # 93.184.216.34
        ("64:ff9b:1::a00:1", False),  # local-use NAT64
        ("2001:db8::1", False),  # documentation
        ("not an address", False),
    ],
)
def test_is_public_address(ip: str, public: bool) -> None:
    assert is_public_address(ip) is public


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_address_refused(fetch_with: FetchWith, upstream: Upstream, host: str) -> None:
    upstream.set("/feed.xml", RSS)
    result = fetch_with(f"http://{host}:{upstream.port}/feed.xml", allow_private_addresses=False)
    assert_error(result, "refused")
    assert host in (result.error or "")
    assert "non-public address" in (result.error or "")
    assert upstream.requests == []


def test_private_address_refused_on_redirect_hop(
    fetch_with: FetchWith, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend 127.0.0.1 is public; the redirect to 127.0.0.2 must still be refused.
    monkeypatch.setattr(addresses, "is_public_address", lambda ip: ip == "127.0.0.1")
    upstream.set("/feed.xml", RSS)
    target = f"http://127.0.0.2:{upstream.port}/feed.xml"
    result = fetch_with(upstream.url(f"/redirect/301?to={target}"), allow_private_addresses=False)
    assert_error(result, "refused")
    assert "127.0.0.2" in (result.error or "")
    assert [r.path for r in upstream.requests] == [f"/redirect/301?to={target}"]


def test_connects_to_the_checked_address(
    fetch_with: FetchWith, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the name is resolved once, checked, and that address is connected to;
    # a second lookup (which could answer something else) never happens.
    calls: list[str] = []

    def resolve_once(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        assert host == "127.0.0.1", f"second lookup of {host}"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(addresses, "resolve", resolve_once)
    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    monkeypatch.setattr(addresses, "is_public_address", lambda ip: ip == "127.0.0.1")
    upstream.set("/feed.xml", RSS)
    url = f"http://rebind.test:{upstream.port}/feed.xml"
    result = fetch_with(url, allow_private_addresses=False)
    assert result.status is FetchStatus.OK, result
    assert calls == ["rebind.test"]
    assert upstream.requests[-1].headers["host"] == f"rebind.test:{upstream.port}"


def test_metadata_address_refused_even_where_private_addresses_are_allowed(
    fetch_with: FetchWith, upstream: Upstream
) -> None:
    # A hostile upstream redirects to the cloud metadata service: refused before connecting.
    target = "http://169.254.169.254/latest/meta-data/"
    result = fetch_with(upstream.url(f"/redirect/302?to={target}"), allow_private_addresses=True)
    assert_error(result, "refused")
    assert "link-local or metadata address 169.254.169.254" in (result.error or "")
    assert "allow_addresses" in (result.error or "")


@pytest.mark.parametrize(
    "ip",
    [
        "169.254.169.254",
        "169.254.1.2",
        "fe80::1",
        "::ffff:169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
    ],
)
def test_link_local_names_refused_unless_listed(ip: str) -> None:
    with pytest.raises(FetchError, match="link-local or metadata"):
        checked_addresses(ip, 80, allow_private=True)
    assert checked_addresses(ip, 80, allow_private=True, allowed=(ip,)) == [ip]


def test_a_listed_address_is_fetched_even_where_private_ones_are_not(
    fetch_with: FetchWith, upstream: Upstream
) -> None:
    upstream.set("/feed.xml", RSS)
    result = fetch_with(
        upstream.url("/feed.xml"), allow_private_addresses=False, allow_addresses=("127.0.0.0/8",)
    )
    assert result.status is FetchStatus.OK, result


def test_any_non_public_address_refuses_the_host(
    fetch_with: FetchWith, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(addresses, "resolve", lambda h, p: ["93.184.216.34", "127.0.0.1"])
    result = fetch_with("http://mixed.test/feed.xml", allow_private_addresses=False)
    assert_error(result, "refused")
    assert "mixed.test" in (result.error or "") and "127.0.0.1" in (result.error or "")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/feed.xml", "file:///etc/passwd", "gopher://x/", "http://", "not a url"],
)
def test_bad_urls_refused(fetcher: Fetcher, url: str) -> None:
    assert_error(fetcher.fetch(url), "refused")


# --------------------------------------------------------------------------- concurrency


def test_concurrent_fetches_share_one_client(
    fetch_settings: FetchSettings, upstream: Upstream
) -> None:
    for i in range(24):
        upstream.set(f"/f{i}.xml", RSS + str(i).encode())
    with (
        Fetcher(fetch_settings, per_host=8, host_spacing=0) as fetcher,
        ThreadPoolExecutor(8) as pool,
    ):
        results = list(pool.map(lambda i: fetcher.fetch(upstream.url(f"/f{i}.xml")), range(24)))
    assert [r.body for r in results] == [RSS + str(i).encode() for i in range(24)]


def test_cookies_are_not_kept(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/cookie", RSS, headers={"Set-Cookie": "session=abc; Path=/"})
    fetcher.fetch(upstream.url("/cookie"))
    fetcher.fetch(upstream.url("/cookie"))
    assert [r.headers.get("cookie") for r in upstream.requests] == [None, None]


# --------------------------------------------------------------------------- politeness


def fetch_all(fetcher: Fetcher, urls: list[str], threads: int) -> list[FetchResult]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(fetcher.fetch, urls))


def start_gaps(upstream: Upstream, host: str | None = None) -> list[float]:
    starts = [hit.start for hit in upstream.slow_hits if host is None or hit.host == host]
    return [b - a for a, b in itertools.pairwise(starts)]


def test_politeness_defaults(upstream: Upstream) -> None:
    # The defaults: 2 requests at once per host, starts 0.5 s apart.
    urls = [upstream.url(f"/slow/{i}?delay=0.3") for i in range(6)]
    with Fetcher(make_fetch_settings(deadline=10)) as fetcher:
        results = fetch_all(fetcher, urls, threads=6)
    assert [r.status for r in results] == [FetchStatus.OK] * 6
    assert len(upstream.slow_hits) == 6
    assert upstream.max_active("127.0.0.1") <= 2
    assert min(start_gaps(upstream)) >= 0.5 - 0.05, start_gaps(upstream)


def test_per_host_bounds_concurrency(upstream: Upstream) -> None:
    urls = [upstream.url(f"/slow/{i}?delay=0.3") for i in range(6)]
    with Fetcher(make_fetch_settings(deadline=10), per_host=2, host_spacing=0) as fetcher:
        results = fetch_all(fetcher, urls, threads=6)
    assert [r.status for r in results] == [FetchStatus.OK] * 6
    assert upstream.max_active("127.0.0.1") == 2  # never more, and the slots were used
    assert len(upstream.slow_hits) == 6


def test_host_spacing_spaces_request_starts(upstream: Upstream) -> None:
    urls = [upstream.url(f"/slow/{i}?delay=0") for i in range(5)]
    with Fetcher(make_fetch_settings(deadline=10), per_host=5, host_spacing=0.25) as fetcher:
        start = time.monotonic()
        results = fetch_all(fetcher, urls, threads=5)
        elapsed = time.monotonic() - start
    assert [r.status for r in results] == [FetchStatus.OK] * 5
    assert min(start_gaps(upstream)) >= 0.25 - 0.05, start_gaps(upstream)
    assert elapsed >= 4 * 0.25 - 0.05


def test_different_hosts_proceed_in_parallel(upstream: Upstream) -> None:
    # 127.0.0.1 and localhost are two hosts of the same server.
    urls = [
        f"http://{host}:{upstream.port}/slow/{i}?delay=0.4"
        for i in range(3)
        for host in ("127.0.0.1", "localhost")
    ]
    with Fetcher(make_fetch_settings(deadline=10), per_host=1, host_spacing=0.2) as fetcher:
        start = time.monotonic()
        results = fetch_all(fetcher, urls, threads=6)
        elapsed = time.monotonic() - start
    assert [r.status for r in results] == [FetchStatus.OK] * 6
    assert upstream.max_active("127.0.0.1") == 1
    assert upstream.max_active("localhost") == 1
    assert upstream.max_active() == 2  # one of each at once
    for host in ("127.0.0.1", "localhost"):
        assert min(start_gaps(upstream, host)) >= 0.4 - 0.05
    # in series the six requests would take 2.4 s; per host they take 3 x 0.4 s
    assert elapsed < 2.0, elapsed


def test_host_key_is_case_insensitive(upstream: Upstream) -> None:
    urls = [
        f"http://{host}:{upstream.port}/slow/x?delay=0.3" for host in ("localhost", "LocalHost")
    ]
    with Fetcher(make_fetch_settings(deadline=10), per_host=1, host_spacing=0) as fetcher:
        results = fetch_all(fetcher, urls, threads=2)
    assert [r.status for r in results] == [FetchStatus.OK] * 2
    assert upstream.max_active("localhost") == 1


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://Example.COM/feed", "example.com:80"),
        ("https://example.com/feed", "example.com:443"),
        ("https://example.com:8443/feed", "example.com:8443"),
        ("http://[::1]:8080/", "::1:8080"),
    ],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(url) == key


def test_waiting_for_the_host_counts_against_the_deadline(feed: str, upstream: Upstream) -> None:
    with Fetcher(make_fetch_settings(deadline=1.0), host_spacing=5) as fetcher:
        first = fetcher.fetch(feed)
        start = time.monotonic()
        second = fetcher.fetch(feed)
        elapsed = time.monotonic() - start
    assert first.status is FetchStatus.OK
    assert_error(second, "timeout")
    assert second.error is not None
    assert second.error.startswith("deadline of 1s exceeded while waiting")
    assert f"host 127.0.0.1:{upstream.port}" in second.error
    assert elapsed < 1.0 + 0.5  # it gave up no later than its deadline
    assert len(upstream.requests) == 1


def test_waiting_for_a_busy_host_times_out(upstream: Upstream) -> None:
    # The host's only slot is held (here directly on the gate) past the waiter's deadline:
    # the waiter gives up at its deadline without sending anything.
    with Fetcher(make_fetch_settings(deadline=0.5), per_host=1, host_spacing=0) as fetcher:
        gate = fetcher.gate
        key = host_key(upstream.url("/"))
        assert gate.acquire(key, time.monotonic() + 10)
        try:
            start = time.monotonic()
            result = fetcher.fetch(upstream.url("/feed.xml"))
            elapsed = time.monotonic() - start
        finally:
            gate.release(key)
        assert_error(result, "timeout")
        assert "waiting" in (result.error or "")
        assert 0.45 <= elapsed < 1.0
        assert upstream.requests == []
        # Once the slot is free, fetching works again.
        upstream.set("/feed.xml", RSS)
        assert fetcher.fetch(upstream.url("/feed.xml")).status is FetchStatus.OK


def test_waiters_are_served_in_order(upstream: Upstream) -> None:
    paths = [f"/slow/{i}?delay=0" for i in range(4)]
    with Fetcher(make_fetch_settings(deadline=10), per_host=1, host_spacing=0.15) as fetcher:
        with ThreadPoolExecutor(4) as pool:
            futures = []
            for path in paths:
                futures.append(pool.submit(fetcher.fetch, upstream.url(path)))
                time.sleep(0.03)  # each one queues behind the previous
        assert [f.result().status for f in futures] == [FetchStatus.OK] * 4
    assert [hit.path for hit in upstream.slow_hits] == paths


def test_slots_are_released_after_failures(upstream: Upstream) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    upstream.set("/feed.xml", RSS)
    with Fetcher(
        make_fetch_settings(deadline=0.5, max_bytes=1000), per_host=1, host_spacing=0
    ) as f:
        assert_error(f.fetch(upstream.url("/status/500")), "http")
        assert_error(f.fetch(upstream.url("/hang")), "timeout")
        assert_error(f.fetch(upstream.url("/big")), "too_large")
        assert_error(f.fetch(upstream.url("/loop")), "redirects")
        assert_error(f.fetch(f"http://127.0.0.1:{closed_port}/"), "network")
        assert_error(f.fetch(f"https://127.0.0.1:{upstream.port}/"), "tls")
        assert f.fetch(upstream.url("/feed.xml")).status is FetchStatus.OK
        assert f.hosts_tracked == 0


def test_idle_hosts_are_forgotten(upstream: Upstream) -> None:
    upstream.set("/feed.xml", RSS)
    with Fetcher(make_fetch_settings(), host_spacing=0.2) as fetcher:
        for n in range(3):  # three more hosts, which do not resolve
            assert_error(fetcher.fetch(f"http://host{n}.invalid/feed.xml"), "dns")
        fetcher.fetch(upstream.url("/feed.xml"))
        fetcher.fetch(f"http://localhost:{upstream.port}/feed.xml")
        assert 1 <= fetcher.hosts_tracked <= 5  # spacing windows still open
        time.sleep(0.25)
        fetcher.fetch(upstream.url("/feed.xml"))  # sweeps the idle ones
        assert fetcher.hosts_tracked == 1


@pytest.mark.parametrize(
    ("kw", "message"), [({"per_host": 0}, "per_host"), ({"host_spacing": -1}, "host_spacing")]
)
def test_politeness_arguments_are_checked(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fetcher(make_fetch_settings(), **kw)
