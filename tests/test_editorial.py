"""The editors' desk: overrides (hide, unhide, pin, unpin, retitle, overrides) from the
command line, applied in every feed, variant, format and archive page; `feeds preview`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient

from feeds.cli import main
from feeds.config import load_config
from feeds.pipeline import Pipeline
from feeds.store import Store
from feeds.types import Format
from feeds.web import create_app, state
from tests.sites import source_toml, write_site
from tests.test_ingestion import rss
from tests.upstream import Upstream

NOW = datetime.now(UTC).replace(microsecond=0)
FEEDS = """
[[feed]]
name = "all"
title = "All"
sources = ["*"]
local = true
limit = 15

[[feed]]
name = "short"
title = "Short"
sources = ["*"]
local = false
limit = 5
exclude = ["boring"]
max_age = "3d"
"""


def entries(first: int, count: int) -> list[tuple[str, str, datetime]]:
    base = NOW - timedelta(days=2)
    return [(f"e{n}", f"Entry {n}", base + timedelta(minutes=n)) for n in range(first, count)]


def item_id(n: int) -> str:
    """The published id of entry ``n`` (a guid that is not a URL: minted under the outlet)."""
    return f"tag:outlet.example,2026:w/e{n}"


class Desk:
    def __init__(self, root: Path, upstream: Upstream, db: str, site_extra: str = "") -> None:
        self.upstream = upstream
        upstream.set("/w.xml", rss(*entries(0, 25)))
        self.config = write_site(
            root,
            upstream,
            sources=source_toml("w", upstream.url("/w.xml")),
            feeds=FEEDS,
            site_extra="archive_page_size = 10\n" + site_extra,
        )
        self.db = db
        self.app = create_app({"FEEDS_CONFIG": str(self.config), "DATABASE_URL": db})
        self.client: FlaskClient = self.app.test_client()

    def feeds(self, *args: str) -> int:
        return main(["--config", str(self.config), "--database", self.db, *args])

    def titles(self, path: str) -> list[str]:
        """The item titles a reader gets at ``path``, for every format (the same in each).

        A clock in another process writes the formats one after another, so a reader may
        catch them mid-publish: they must agree within a few seconds."""
        deadline = time.monotonic() + 5
        while True:
            found = {}
            for fmt in Format:
                response = self.client.get(f"{path}.{fmt.value}")
                assert response.status_code == 200, path
                if fmt is Format.JSON:
                    found[fmt] = [i.get("title", "") for i in json.loads(response.data)["items"]]
                else:
                    found[fmt] = [
                        e.get("title", "") for e in feedparser.parse(response.data).entries
                    ]
            if found[Format.RSS] == found[Format.ATOM] == found[Format.JSON]:
                return found[Format.RSS]
            assert time.monotonic() < deadline, found
            time.sleep(0.1)


@pytest.fixture
def desk(tmp_path: Path, upstream: Upstream, db_url: str) -> Iterator[Desk]:
    d = Desk(tmp_path, upstream, db_url)
    yield d
    state(d.app).store.close()


def test_hide_pin_retitle_and_their_audit_trail(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    assert desk.feeds("update") == 0
    before = desk.titles("/feeds/all")
    assert before[:3] == ["Entry 24", "Entry 23", "Entry 22"]

    # hide by link, retitle by published id, pin an item far below the top
    assert desk.feeds("hide", "https://wire.example/e24", "--by", "rania", "--reason", "legal") == 0
    out = capsys.readouterr().out
    assert "https://wire.example/e24: hidden everywhere (by rania: legal)" in out
    assert desk.feeds("retitle", item_id(23), "Entry 23, corrected", "--by", "omar") == 0
    assert desk.feeds("pin", item_id(12), "--feed", "all", "--by", "omar", "--until", "6h") == 0
    capsys.readouterr()
    assert desk.feeds("update") == 0
    after = desk.titles("/feeds/all")
    assert after[:3] == ["Entry 12", "Entry 23, corrected", "Entry 22"]
    assert "Entry 24" not in after and len(after) == 15  # the limit counts the pin
    assert "Entry 24" not in desk.titles("/feeds/short")  # hidden everywhere
    assert desk.titles("/feeds/short")[0] == "Entry 23, corrected"  # retitled everywhere
    assert "Entry 12" not in desk.titles("/feeds/short")  # pinned in "all" only

    assert desk.feeds("overrides") == 0
    listing = capsys.readouterr().out
    assert "in force: 3 overrides" in listing
    assert "https://wire.example/e24  hidden  (by rania at" in listing and ": legal)" in listing
    assert f"{item_id(12)}  pinned in all until " in listing
    assert "audit trail (newest first, 3 lines):" in listing
    assert "omar  pin  " + item_id(12) + "  feed=all until=" in listing

    # undo everything: the feed is what it was, and the trail has six lines
    assert desk.feeds("unhide", "https://wire.example/e24", "--by", "rania") == 0
    assert desk.feeds("retitle", item_id(23), "", "--by", "omar") == 0
    assert desk.feeds("unpin", item_id(12), "--feed", "all", "--by", "omar") == 0
    assert desk.feeds("update") == 0
    assert desk.titles("/feeds/all") == before
    capsys.readouterr()
    assert desk.feeds("overrides") == 0
    listing = capsys.readouterr().out
    assert "in force: 0 overrides" in listing and "6 lines" in listing
    assert "rania  unhide  https://wire.example/e24" in listing

    # ending what is not in force is an error, and recorded nowhere
    assert desk.feeds("unpin", item_id(12), "--feed", "all") == 1
    assert "has no pin in all in force" in capsys.readouterr().err
    assert desk.feeds("pin", item_id(12), "--feed", "nope") == 2
    assert "no feed 'nope' in feeds.toml; feeds: all, short" in capsys.readouterr().err


def test_a_hidden_item_and_a_deleted_article_leave_the_archive_pages(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    assert desk.feeds("update") == 0
    page = "/feeds/all/archive/1"
    first_page = desk.titles(page)
    assert len(first_page) == 10 and "Entry 15" in first_page, first_page
    etag = desk.client.get(f"{page}.rss").headers["ETag"]

    assert desk.feeds("hide", "https://wire.example/e15", "--reason", "court order") == 0
    assert desk.feeds("update") == 0
    assert desk.titles(page) == [t for t in first_page if t != "Entry 15"]
    assert desk.client.get(f"{page}.rss").headers["ETag"] != etag
    assert desk.client.get(f"{page}.rss", headers={"If-None-Match": etag}).status_code == 200

    assert desk.feeds("unhide", "https://wire.example/e15") == 0
    assert desk.feeds("update") == 0
    assert desk.titles(page) == first_page
    assert desk.client.get(f"{page}.rss").headers["ETag"] == etag  # the same bytes again

    # a local article on an archive page is deleted: it leaves the page
    articles = [t for t in desk.titles("/feeds/all") + first_page if "Entry" not in t]
    holding = [
        n
        for n in range(1, 3)
        if desk.client.get(f"/feeds/all/archive/{n}.rss").status_code == 200
        and any(t in desk.titles(f"/feeds/all/archive/{n}") for t in articles)
    ]
    (desk.config / "articles" / "ports-reopen.md").unlink()
    assert desk.feeds("update") == 0
    for n in holding:
        titles = desk.titles(f"/feeds/all/archive/{n}")
        assert not [t for t in titles if "port" in t.lower()], titles
    assert not [t for t in desk.titles("/feeds/all") if "port" in t.lower()]
    capsys.readouterr()


def test_preview_lists_the_items_and_explains_what_is_left_out(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    desk.upstream.set(
        "/w.xml",
        rss(
            *entries(10, 20),
            ("boring", "A boring story", NOW - timedelta(hours=1)),
            ("old", "An old story", NOW - timedelta(days=5)),
        ),
    )
    later = (NOW + timedelta(days=1)).isoformat()
    (desk.config / "articles" / "tomorrow.md").write_text(
        f'---\ntitle: "Tomorrow\'s story"\ndate: {later}\n---\nNot yet.\n', encoding="utf-8"
    )
    assert desk.feeds("update") == 0
    assert desk.feeds("hide", "https://wire.example/e19") == 0
    capsys.readouterr()
    published = desk.client.get("/feeds/short.rss").data

    assert desk.feeds("preview", "short") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "short: 5 items (limit 5, content full, access public)"
    listed = [line.split("  ")[-1] for line in out[1::2]]
    assert listed == ["Entry 18", "Entry 17", "Entry 16", "Entry 15", "Entry 14"]
    assert desk.client.get("/feeds/short.rss").data == published  # nothing published

    assert desk.feeds("preview", "short", "--explain") == 0
    text = capsys.readouterr().out
    assert "left out: 7 candidates" in text
    assert "hidden by " in text and "id " + item_id(19) in text
    assert "matches exclude pattern 'boring'" in text
    assert "older than max_age (3d)" in text
    assert text.count("beyond the feed's limit of 5 items") == 4  # entries 10 to 13

    assert desk.feeds("preview", "all", "--explain") == 0
    text = capsys.readouterr().out
    assert "embargoed" in text and "Tomorrow's story" in text and "scheduled for " in text

    assert desk.feeds("preview", "nope") == 2
    assert "no feed 'nope'" in capsys.readouterr().err


def test_a_clock_in_another_process_publishes_an_override_within_seconds(
    tmp_path: Path, upstream: Upstream, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The web process (here) and the clock (`feeds scheduler`) apart, on one database: an
    editor's hide reaches the served documents without anyone running `feeds update`, and
    the hub hears of it. (How fast: bench/overrides.py; this test asserts the outcome.)"""
    upstream.set("/hub", b"", status=202)
    desk = Desk(tmp_path, upstream, db_url, f'hub = "{upstream.url("/hub")}"')
    assert desk.feeds("update") == 0
    assert desk.titles("/feeds/all")[0] == "Entry 24"
    clock = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feeds.cli",
            "--config",
            str(desk.config),
            "--database",
            db_url,
            "scheduler",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, FEEDS_ALLOW_PRIVATE_ADDRESSES="1"),
    )
    try:
        time.sleep(3)  # the clock starts and publishes what is stored (nothing changes)
        pings = len([r for r in upstream.requests_to("/hub") if r.method == "POST"])
        assert desk.feeds("hide", "https://wire.example/e24", "--reason", "legal") == 0
        deadline = time.monotonic() + 30
        while "Entry 24" in desk.titles("/feeds/all") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert desk.titles("/feeds/all")[0] == "Entry 23"
        assert "Entry 24" not in desk.titles("/feeds/short")
        while time.monotonic() < deadline and pings == len(
            [r for r in upstream.requests_to("/hub") if r.method == "POST"]
        ):
            time.sleep(0.2)
        assert len([r for r in upstream.requests_to("/hub") if r.method == "POST"]) > pings
        assert clock.poll() is None  # still running
    finally:
        clock.send_signal(signal.SIGTERM)
        output = clock.communicate(timeout=30)[0].decode()
        state(desk.app).store.close()
    assert "overrides applied" in output
    capsys.readouterr()


def test_a_pin_with_an_end_ends_by_itself(desk: Desk, capsys: pytest.CaptureFixture[str]) -> None:
    assert desk.feeds("update") == 0
    assert desk.feeds("pin", item_id(12), "--feed", "all", "--until", "1h") == 0
    capsys.readouterr()
    now = [datetime.now(UTC)]
    with Store(desk.db) as store, Pipeline(load_config(desk.config), store) as pipeline:
        pipeline.clock = lambda: now[0]
        pipeline.publish_all()
        assert desk.titles("/feeds/all")[0] == "Entry 12"
        assert pipeline.follow_overrides() == []  # nothing changed
        now[0] += timedelta(minutes=61)
        assert "all.rss" in pipeline.follow_overrides()  # the pin ended: published again
    assert desk.titles("/feeds/all")[0] == "Entry 24"


def test_the_desk_never_creates_a_database(
    tmp_path: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped --database must not record a hide where no clock will ever read it."""
    missing = tmp_path / "typo" / "feeds.db"
    desk = Desk(tmp_path, upstream, f"sqlite:///{tmp_path / 'feeds.db'}")
    for command in (
        ["hide", "https://wire.example/e1"],
        ["pin", "https://wire.example/e1", "--feed", "all"],
        ["preview", "all"],
        ["overrides"],
    ):
        assert (
            main(["--config", str(desk.config), "--database", f"sqlite:///{missing}", *command])
            == 3
        )
        assert f"no database at {missing}" in capsys.readouterr().err
    assert not missing.parent.exists()
    state(desk.app).store.close()
