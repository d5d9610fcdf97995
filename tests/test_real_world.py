"""Issue 9's cases end to end, as a new user meets them: real-world feeds served from loopback,
`feeds update`, then what readers get and what editors see."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from feeds.cli import main
from feeds.store import Store
from feeds.types import Format
from feeds.web import create_app, state
from tests.sites import ALL_SOURCES_FEED, FIXTURES, source_toml, write_site
from tests.upstream import Upstream
from tests.validators import validate

FIDELITY = FIXTURES / "fidelity"


def episode(n: int) -> str:
    return (
        f"<item><title>Episode {n}</title><link>https://show.example/</link>"
        f"<guid isPermaLink='false'>ep-{n:03d}</guid>"
        f"<pubDate>{_date(n)}</pubDate>"
        f"<enclosure url='https://cdn.show.example/{n:03d}.mp3' type='audio/mpeg' "
        "length='1000'/></item>"
    )


def _date(n: int) -> str:
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    year = 2020 + n // (28 * 12)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return f"{day:02d} {months[month - 1]} {year} 06:00:00 GMT"


def podcast(count: int) -> bytes:
    items = "".join(episode(n) for n in range(count, 0, -1))
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        "<title>Show</title><link>https://show.example/</link><description>d</description>"
        f"{items}</channel></rss>"
    ).encode()


class Desk:
    def __init__(self, root: Path, upstream: Upstream, db: str, sources: str, limit: int) -> None:
        feeds = ALL_SOURCES_FEED.replace("limit = 100", f"limit = {limit}") + "local = false\n"
        self.config = write_site(root, upstream, sources=sources, feeds=feeds)
        self.db = db

    def feeds(self, *args: str) -> int:
        return main(["--config", str(self.config), "--database", self.db, *args])

    def document(self, fmt: Format) -> bytes:
        with Store(self.db) as store:
            document = store.get_document("all", fmt)
        assert document is not None
        return document.body


def test_a_podcast_publishes_its_newest_episodes_and_then_the_new_one(
    tmp_path: Path, upstream: Upstream, db_url: str
) -> None:
    upstream.set("/show.xml", podcast(130))
    desk = Desk(tmp_path, upstream, db_url, source_toml("show", upstream.url("/show.xml")), 9)
    assert desk.feeds("update") == 0
    titles = [e.title for e in feedparser.parse(desk.document(Format.RSS)).entries]
    assert titles == [f"Episode {n}" for n in range(130, 121, -1)]
    upstream.set("/show.xml", podcast(131))
    assert desk.feeds("update", "--force") == 0
    titles = [e.title for e in feedparser.parse(desk.document(Format.RSS)).entries]
    assert titles[:2] == ["Episode 131", "Episode 130"] and len(titles) == 9
    assert validate((fmt.value, desk.document(fmt)) for fmt in Format) == []


def test_real_world_feeds_are_read_right_and_unreadable_dates_reach_the_editor(
    tmp_path: Path, upstream: Upstream, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["dates.xml", "digest.xml", "repeated-guid.xml", "mathml.xml", "rss090.rdf"]
    sources = ""
    for name in names:
        upstream.set(f"/{name}", (FIDELITY / name).read_bytes())
        sources += source_toml(name.split(".")[0], upstream.url(f"/{name}"))
    upstream.set(
        "/wordpress.json",
        (FIDELITY / "wordpress.json").read_bytes(),
        headers={"Content-Type": "application/feed+json"},
    )
    sources += source_toml("wordpress", upstream.url("/wordpress.json"))
    desk = Desk(tmp_path, upstream, db_url, sources, 200)
    assert desk.feeds("update") == 0
    out = capsys.readouterr().out
    assert "6 fetched, 0 failed" in out  # every one of them is a feed we read

    rss = feedparser.parse(desk.document(Format.RSS))
    titles = [e.title for e in rss.entries]
    assert "Add Task & Sub Tasks" in titles  # WordPress's escaped JSON Feed title, decoded once
    assert not any("&amp;" in t for t in titles)
    problems = validate((fmt.value, desk.document(fmt)) for fmt in Format)
    assert problems == [], "\n".join(problems)

    # a date that cannot be read is shown to editors on the source, never guessed
    assert desk.feeds("sources") == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "warning:" in lines["dates"] and "cannot be read" in lines["dates"]
    assert "warning:" not in lines["digest"]
    app = create_app({"FEEDS_CONFIG": str(desk.config), "DATABASE_URL": desk.db})
    try:
        with app.test_client() as client:
            shown = {s["id"]: s for s in client.get("/sources.json").get_json()["sources"]}
            page = client.get("/sources").get_data(as_text=True)
    finally:
        state(app).store.close()
    assert "cannot be read" in (shown["dates"]["warning"] or "")
    assert shown["digest"]["warning"] is None
    assert "cannot be read" in page and "Foo 32, 2020" in page
