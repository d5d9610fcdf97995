"""HTTP behaviour of the web app, on served responses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient

from feeds.web import state
from feeds.web.views import not_modified
from tests.sites import Site

LM = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("inm", "ims", "expected"),
    [
        ('"a"', None, True),
        ('W/"a"', None, True),  # weak comparison for If-None-Match
        ('"b", "a"', None, True),
        ("*", None, True),
        ('"b"', None, False),
        ('"b"', "Fri, 20 Nov 2026 12:00:00 GMT", False),  # If-None-Match wins
        (None, "Fri, 20 Nov 2026 12:00:00 GMT", True),
        (None, "Fri, 20 Nov 2026 13:00:00 GMT", True),
        (None, "Fri, 20 Nov 2026 11:59:59 GMT", False),
        (None, "yesterday", False),
        (None, None, False),
    ],
)
def test_not_modified_rules(inm: str | None, ims: str | None, expected: bool) -> None:
    assert not_modified('"a"', LM, inm, ims) is expected


def test_headers_of_a_served_feed(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    response = client.get("/feeds/ours.json")
    assert response.status_code == 200
    assert response.headers["Link"] == '<https://feeds.outlet.example/feeds/ours.json>; rel="self"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_configured_but_unpublished_feed_is_503_not_404(site: Site, client: FlaskClient) -> None:
    response = client.get("/feeds/everything.rss")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_invalid_config_keeps_serving_the_last_good_one(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    app_state = state(client.application)
    (site.config / "feeds.toml").write_text('[[feed]]\nname = "Bad Name"\n', encoding="utf-8")
    app_state._next_config_check = 0.0
    response = client.get("/feeds/ours.rss")
    assert response.status_code == 200
    assert len(feedparser.parse(response.data).entries) == 2
    assert any("feeds.toml: feed[" in p for p in app_state.watcher.last_problems)
    assert b"feeds.toml: feed[" in client.get("/sources").data


def test_gunicorn_serves_the_app_factory_as_the_procfile_does(site: Site, tmp_path: Path) -> None:
    """The Procfile's web: line, run for real on a free port."""
    assert site.feeds("update") == 0
    procfile = (Path(__file__).parent.parent / "Procfile").read_text(encoding="utf-8")
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "'feeds.web:create_app()'" in web
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, FEEDS_CONFIG=str(site.config), DATABASE_URL=site.db, PORT=str(port))
    command = web.removeprefix("web:").strip().replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")
    proc = subprocess.Popen(
        ["sh", "-c", f"exec {Path(sys.executable).parent}/{command}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/feeds/ours.atom", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert feedparser.parse(response.content).bozo == 0
        again = httpx.get(
            f"http://127.0.0.1:{port}/feeds/ours.atom",
            headers={"If-None-Match": response.headers["ETag"]},
            timeout=2,
        )
        assert again.status_code == 304
    finally:
        proc.terminate()
        proc.wait(timeout=20)
