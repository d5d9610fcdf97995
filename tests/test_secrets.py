"""A source URL's secrets (a password, a token in its query) never leave the building: not in
the published documents, the pages, the JSON, the OPML, the metrics, the CLI's output, the
error texts nor the logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.cli import main
from feeds.urls import public_url, redact_urls
from feeds.web import create_app, state
from tests.sites import ALL_SOURCES_FEED, source_toml, write_site
from tests.test_ingestion import rss
from tests.upstream import Upstream

SECRETS = ("PASS1234", "TOKEN5678", "SIG999", "HUSH42")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://a.example/f.xml", "https://a.example/f.xml"),
        ("https://bob:pw@a.example/f.xml", "https://a.example/f.xml"),
        ("https://a.example/f?api_key=1&page=2&Token=3", "https://a.example/f?page=2"),
        ("https://a.example/f?KEY=1&apikey=2&access_token=3", "https://a.example/f"),
        (
            "https://a.example/f?auth=1&sig=2&signature=3&password=4&secret=5&x",
            "https://a.example/f?x",
        ),
        ("https://a.example/f?monkey=1&keys=2", "https://a.example/f?monkey=1&keys=2"),
        ("https://a.example/f?api%5Fkey=1", "https://a.example/f"),
    ],
)
def test_public_url(url: str, shown: str) -> None:
    assert public_url(url) == shown


def test_urls_in_a_text_are_made_public() -> None:
    text = "redirect loop: http://bob:PASS@h.example/a?token=T&x=1 (then https://h.example/b)"
    assert redact_urls(text) == ("redirect loop: http://h.example/a?x=1 (then https://h.example/b)")


def test_a_source_url_with_a_password_and_a_token_is_shown_nowhere(
    tmp_path: Path,
    upstream: Upstream,
    db_url: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    now = datetime.now(UTC)
    upstream.set(
        "/feed.xml", rss(*[(f"e{n}", f"Entry {n}", now - timedelta(hours=n)) for n in range(3)])
    )
    netloc = f"bob:PASS1234@127.0.0.1:{upstream.port}"
    sources = (
        source_toml("good", f"http://{netloc}/feed.xml?api_key=TOKEN5678&page=2&Signature=SIG999")
        + source_toml("loop", f"http://{netloc}/loop?token=TOKEN5678")
        + source_toml("down", f"http://{netloc}/status/500?secret=HUSH42")
    )
    config = write_site(tmp_path, upstream, sources=sources, feeds=ALL_SOURCES_FEED)
    cli = ["--config", str(config), "--database", db_url]
    assert main([*cli, "update"]) == 0
    assert main([*cli, "sources"]) == 0
    assert main([*cli, "export-opml"]) == 0  # the editors' own file keeps the real URLs
    out = capsys.readouterr()
    exported, said = out.out.rsplit("<?xml", 1)[1], out.out.rsplit("<?xml", 1)[0] + out.err
    assert "PASS1234" in exported  # (a round trip must give the same sources back)

    app = create_app({"FEEDS_CONFIG": str(config), "DATABASE_URL": db_url})
    client = app.test_client()
    shown: dict[str, str] = {"cli": said, "logs": caplog.text}
    for path in (
        "/feeds/all.rss",
        "/feeds/all.atom",
        "/feeds/all.json",
        "/",
        "/sources",
        "/sources.json",
        "/sources.opml",
        "/status",
        "/status.json",
        "/metrics",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        shown[path] = response.get_data(as_text=True)
    state(app).store.close()
    shown["logs"] += caplog.text

    # the facts are there ...
    assert "Entry 0" in shown["/feeds/all.rss"] and "page=2" in shown["/feeds/all.rss"]
    assert f"http://127.0.0.1:{upstream.port}/feed.xml?page=2" in shown["/sources.json"]
    assert "redirect" in shown["/sources.json"] and "500" in shown["/status.json"]
    assert "redirect" in said
    # ... and no secret anywhere
    for where, text in shown.items():
        for secret in SECRETS:
            assert secret not in text, (where, secret)
