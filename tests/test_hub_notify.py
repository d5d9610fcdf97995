"""Fetcher.notify_hub: WebSub publish pings against a recording loopback hub."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from feeds.fetch import Fetcher, HubResult
from tests.upstream import Upstream, make_fetch_settings

TOPIC = "https://feeds.outlet.example/feeds/world.atom?a=1&b=2"


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(make_fetch_settings()) as f:
        yield f


@pytest.mark.parametrize("code", [200, 202, 204])
def test_success(fetcher: Fetcher, upstream: Upstream, code: int) -> None:
    upstream.set("/hub", b"" if code == 204 else b"accepted\n", status=code)
    result = fetcher.notify_hub(upstream.url("/hub"), TOPIC)
    assert result == HubResult(ok=True, status=code, error=None)
    (request,) = upstream.requests_to("/hub")
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"] == "feeds-tests/1.0"
    assert parse_qs(request.body.decode("ascii"), strict_parsing=True) == {
        "hub.mode": ["publish"],
        "hub.url": [TOPIC],
    }
    assert request.body.startswith(b"hub.mode=publish&hub.url=https%3A%2F%2F")


def test_hub_error_status(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/hub", b"boom\n", status=500)
    result = fetcher.notify_hub(upstream.url("/hub"), TOPIC)
    assert not result.ok
    assert result.status == 500
    assert result.error == "hub answered HTTP 500 Internal Server Error"


def test_redirects_are_not_followed(fetcher: Fetcher, upstream: Upstream) -> None:
    upstream.set("/hub", b"", status=204)
    result = fetcher.notify_hub(upstream.url("/redirect/307?to=/hub"), TOPIC)
    assert not result.ok
    assert result.status == 307
    assert "not followed" in (result.error or "")
    assert upstream.requests_to("/hub") == []


def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = fetcher.notify_hub(f"http://127.0.0.1:{port}/hub", TOPIC)
    assert not result.ok
    assert result.status is None
    assert "connection refused" in (result.error or "")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_hub_refused_when_not_allowed(upstream: Upstream, host: str) -> None:
    upstream.set("/hub", b"", status=204)
    with Fetcher(make_fetch_settings(allow_private_addresses=False)) as fetcher:
        result = fetcher.notify_hub(f"http://{host}:{upstream.port}/hub", TOPIC)
    assert not result.ok
    assert result.status is None
    assert "non-public address" in (result.error or "")
    assert upstream.requests == []


def test_deadline(upstream: Upstream) -> None:
    with Fetcher(make_fetch_settings(deadline=0.5)) as fetcher:
        start = time.monotonic()
        result = fetcher.notify_hub(upstream.url("/slow?delay=5"), TOPIC)
        elapsed = time.monotonic() - start
    assert not result.ok
    assert result.status is None
    assert (result.error or "").startswith("deadline of 0.5s exceeded")
    assert elapsed < 1.5


@pytest.mark.parametrize("hub", ["", "not a url", "ftp://hub.example/", "http://[::1"])
def test_bad_hub_urls_never_raise(fetcher: Fetcher, hub: str) -> None:
    result = fetcher.notify_hub(hub, TOPIC)
    assert not result.ok
    assert result.status is None
    assert result.error


def test_hub_pings_share_the_host_politeness(upstream: Upstream) -> None:
    upstream.set("/hub", b"", status=204)
    with Fetcher(make_fetch_settings(), host_spacing=0.3) as fetcher:
        start = time.monotonic()
        results = [fetcher.notify_hub(upstream.url("/hub"), f"{TOPIC}&n={n}") for n in range(3)]
        elapsed = time.monotonic() - start
    assert [r.ok for r in results] == [True] * 3
    assert elapsed >= 2 * 0.3 - 0.05
