"""Publishing through the pipeline: RFC 5005 archive pages, ttl, and WebSub notifications."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import feedparser
import pytest
from lxml import etree

from feeds.config import load_config
from feeds.pipeline import Pipeline, source_config_hash
from feeds.store import Store
from feeds.types import (
    Config,
    Entry,
    FeedSpec,
    FetchResult,
    FetchStatus,
    Format,
    Site,
    Source,
    SourceState,
    SourceStatus,
)
from feeds.web import create_app, state
from tests.sites import source_toml, write_site
from tests.test_ingestion import rss
from tests.upstream import Upstream

ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
FEED = '[[feed]]\nname = "all"\ntitle = "All"\nsources = ["*"]\nlimit = 15\n'


def items(first: int, count: int) -> list[tuple[str, str, datetime]]:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    return [(f"e{n}", f"Entry {n}", base + timedelta(minutes=n)) for n in range(first, count)]


class Outlet:
    def __init__(self, root: Path, upstream: Upstream, site_extra: str = "") -> None:
        self.upstream = upstream
        upstream.set("/w.xml", rss(*items(0, 25)))
        self.config_dir = write_site(
            root,
            upstream,
            sources=source_toml("w", upstream.url("/w.xml")),
            feeds=FEED,
            site_extra=site_extra,
        )
        self.store = Store(f"sqlite:///{root / 'feeds.db'}")
        self.pipeline = Pipeline(load_config(self.config_dir), self.store)

    def links(self, name: str, page: int = 0) -> dict[str, str]:
        document = self.store.get_document(name, Format.ATOM, page)
        assert document is not None
        root = etree.fromstring(document.body)
        return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}

    def close(self) -> None:
        self.pipeline.close()
        self.store.close()


@pytest.fixture
def outlet(tmp_path: Path, upstream: Upstream) -> Iterator[Outlet]:
    o = Outlet(tmp_path, upstream, "archive_page_size = 10")
    yield o
    o.close()


def test_archive_pages_are_written_when_full_and_never_change(outlet: Outlet) -> None:
    outlet.pipeline.update()
    # the current document holds the newest 15 items; they are the first 15 the feed has had
    assert outlet.store.has_document("all", Format.ATOM, page=1)
    assert not outlet.store.has_document("all", Format.ATOM, page=2)
    base = "https://feeds.outlet.example/feeds/all"
    assert outlet.links("all")["prev-archive"] == f"{base}/archive/1.atom"
    page1 = {f: outlet.store.get_document("all", f, page=1) for f in Format}
    page = etree.fromstring(page1[Format.ATOM].body)  # type: ignore[union-attr]
    assert page.find(f"{FH}archive") is not None
    assert outlet.links("all", page=1)["current"] == f"{base}.atom"
    assert "prev-archive" not in outlet.links("all", page=1)
    titles = [e.title for e in feedparser.parse(page1[Format.RSS].body).entries]  # type: ignore[union-attr]
    assert titles == [f"Entry {n}" for n in range(19, 9, -1)]  # first ten to appear, newest first

    outlet.upstream.set("/w.xml", rss(*items(0, 37)))
    outlet.pipeline.update(force=True)
    assert outlet.store.has_document("all", Format.ATOM, page=2)
    assert outlet.links("all")["prev-archive"] == f"{base}/archive/2.atom"
    assert outlet.links("all", page=2)["prev-archive"] == f"{base}/archive/1.atom"
    for fmt in Format:
        again = outlet.store.get_document("all", fmt, page=1)
        assert again == page1[fmt]  # same bytes, same ETag, same Last-Modified


def test_archive_pages_are_cached_for_a_day(outlet: Outlet) -> None:
    outlet.pipeline.update()
    app = create_app({"FEEDS_CONFIG": str(outlet.config_dir), "DATABASE_URL": outlet.store.url})
    client = app.test_client()
    response = client.get("/feeds/all/archive/1.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/feeds/all/archive/2.json").status_code == 404
    state(app).store.close()


def test_ttl_follows_the_most_frequent_input(outlet: Outlet) -> None:
    outlet.pipeline.update()
    document = outlet.store.get_document("all", Format.RSS)
    assert document is not None
    assert b"<ttl>30</ttl>" in document.body  # the source's default interval


@pytest.fixture
def hub_outlet(tmp_path: Path, upstream: Upstream) -> Iterator[Outlet]:
    hub = upstream.url("/hub")
    o = Outlet(tmp_path, upstream, f'hub = "{hub}"')
    yield o
    o.close()


def hub_posts(upstream: Upstream) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode()) for r in upstream.requests_to("/hub") if r.method == "POST"]


def test_hub_is_told_about_changed_documents_only(hub_outlet: Outlet) -> None:
    upstream = hub_outlet.upstream
    upstream.set("/hub", b"", status=204)
    hub_outlet.pipeline.update()
    topics = sorted(p["hub.url"][0] for p in hub_posts(upstream))
    base = "https://feeds.outlet.example/feeds/all"
    assert topics == [f"{base}.atom", f"{base}.json", f"{base}.rss"]
    assert all(p["hub.mode"] == ["publish"] for p in hub_posts(upstream))
    assert hub_outlet.store.pending_hub_pings() == []
    # documents carry the hub link
    assert hub_outlet.links("all")["hub"] == upstream.url("/hub")

    hub_outlet.pipeline.update()  # nothing changed: nothing to tell
    assert len(hub_posts(upstream)) == 3


def test_failed_hub_pings_are_retried_with_backoff_without_blocking(hub_outlet: Outlet) -> None:
    upstream = hub_outlet.upstream
    upstream.set("/hub", b"busy", status=503)
    report = hub_outlet.pipeline.update()
    assert report.published  # publishing went ahead
    pending = hub_outlet.store.pending_hub_pings()
    assert [(p.attempts, p.last_error) for p in pending] == [
        (1, "hub answered HTTP 503 Service Unavailable")
    ] * 3
    # not due yet: a second delivery round right away sends nothing
    assert hub_outlet.pipeline.deliver_hub_pings() == 0
    assert len(hub_posts(upstream)) == 3

    upstream.set("/hub", b"", status=202)
    later = datetime.now(UTC) + timedelta(minutes=5)
    hub_outlet.pipeline.clock = lambda: later.replace(microsecond=0)
    assert hub_outlet.pipeline.deliver_hub_pings() == 3
    assert hub_outlet.store.pending_hub_pings() == []


def test_archive_pages_survive_a_page_size_change_and_a_feed_coming_back(
    outlet: Outlet,
) -> None:
    outlet.pipeline.update()  # 15 items recorded: page 1 = the first ten
    page1 = {f: outlet.store.get_document("all", f, page=1) for f in Format}
    assert outlet.store.archive_pages("all") == [(1, 1, 10, False)]

    # the editor changes the page size: page 1 stays, later pages use the new size
    (outlet.config_dir / "site.toml").write_text(
        (outlet.config_dir / "site.toml")
        .read_text(encoding="utf-8")
        .replace("archive_page_size = 10", "archive_page_size = 12"),
        encoding="utf-8",
    )
    outlet.pipeline.reconfigure(load_config(outlet.config_dir))
    outlet.upstream.set("/w.xml", rss(*items(0, 37)))
    outlet.pipeline.update(force=True)
    assert outlet.store.archive_pages("all") == [(1, 1, 10, False), (2, 11, 22, False)]
    assert {f: outlet.store.get_document("all", f, page=1) for f in Format} == page1

    # the feed leaves the config and comes back: its archive continues, page 1 unchanged
    feeds_toml = outlet.config_dir / "feeds.toml"
    feeds_toml.write_text(FEED.replace('name = "all"', 'name = "other"'), encoding="utf-8")
    outlet.pipeline.reconfigure(load_config(outlet.config_dir))
    outlet.pipeline.update(force=True)
    feeds_toml.write_text(FEED, encoding="utf-8")
    outlet.pipeline.reconfigure(load_config(outlet.config_dir))
    outlet.upstream.set("/w.xml", rss(*items(0, 50)))
    outlet.pipeline.update(force=True)
    assert outlet.store.archive_pages("all")[:2] == [(1, 1, 10, False), (2, 11, 22, False)]
    assert {f: outlet.store.get_document("all", f, page=1) for f in Format} == page1
    assert all(outlet.store.has_document("all", f, page=3) for f in Format)


def test_a_smaller_page_size_writes_the_pages_it_fills_without_new_items(
    tmp_path: Path, upstream: Upstream
) -> None:
    outlet = Outlet(tmp_path, upstream, "archive_page_size = 20")
    outlet.pipeline.update()  # 15 items recorded: no page is full
    assert outlet.store.archive_pages("all") == []
    site = outlet.config_dir / "site.toml"
    site.write_text(
        site.read_text(encoding="utf-8").replace(
            "archive_page_size = 20", "archive_page_size = 10"
        ),
        encoding="utf-8",
    )
    outlet.pipeline.reconfigure(load_config(outlet.config_dir))
    outlet.pipeline.publish_all()  # the same items as before
    assert outlet.store.archive_pages("all") == [(1, 1, 10, False)]
    outlet.close()


def test_a_ping_queued_while_the_hub_is_told_is_not_lost(hub_outlet: Outlet) -> None:
    upstream = hub_outlet.upstream
    upstream.set("/hub", b"", status=204)
    store = hub_outlet.store
    now = datetime.now(UTC).replace(microsecond=0)
    topic = "https://feeds.outlet.example/feeds/all.rss"
    store.queue_hub_ping(upstream.url("/hub"), topic, now)
    (ping,) = store.due_hub_pings(now)
    store.queue_hub_ping(upstream.url("/hub"), topic, now)  # the feed changed again meanwhile
    store.hub_ping_done(ping)
    assert [p.topic for p in store.pending_hub_pings()] == [topic]


def test_credentials_in_a_source_url_are_never_published() -> None:
    from feeds.urls import public_url

    assert public_url("https://user:secret@partner.example/feed") == "https://partner.example/feed"
    assert public_url("https://partner.example/feed?x=1") == "https://partner.example/feed?x=1"


def test_overlapping_hub_deliveries_never_clear_a_newer_ping(hub_outlet: Outlet) -> None:
    store = hub_outlet.store
    hub = hub_outlet.upstream.url("/hub")
    now = datetime.now(UTC).replace(microsecond=0)
    topic = "https://feeds.outlet.example/feeds/all.json"
    store.queue_hub_ping(hub, topic, now)
    (first,) = store.due_hub_pings(now)  # deliverer A
    (second,) = store.due_hub_pings(now)  # deliverer B, the same ping
    store.hub_ping_done(first)
    store.queue_hub_ping(hub, topic, now)  # the feed changes again
    store.hub_ping_done(second)  # B finishes the old delivery late
    assert [p.topic for p in store.pending_hub_pings()] == [topic]


def test_an_archive_page_written_elsewhere_first_is_left_alone(outlet: Outlet) -> None:
    outlet.pipeline.update()
    before = outlet.store.get_document("all", Format.RSS, page=1)
    outlet.store.write_archive_page("all", 1, 1, 10, {Format.RSS: b"<other/>"}, datetime.now(UTC))
    assert outlet.store.get_document("all", Format.RSS, page=1) == before


def test_a_long_running_publisher_publishes_what_a_fresh_one_would(
    tmp_path: Path, upstream: Upstream
) -> None:
    """The clock's pipeline remembers the last documents, candidates and archive records of
    each feed; whatever it remembers, it stores the bytes a fresh pipeline computes."""
    feeds = (
        '[[feed]]\nname = "quiet"\ntitle = "Quiet"\nsources = ["*"]\nlimit = 6\n'
        "exclude = ['loud']\nlocal = false\n\n" + FEED
    )
    sources = "".join(source_toml(f"s{n}", upstream.url(f"/s{n}.xml")) for n in range(3))
    config = load_config(
        write_site(
            tmp_path, upstream, sources=sources, feeds=feeds, site_extra="archive_page_size = 10"
        )
    )
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    base = datetime(2026, 11, 20, tzinfo=UTC)
    clock = [base]
    lasting = Pipeline(config, store, clock=lambda: clock[0])
    lasting.sync_sources()  # the sources table, as the clock has it before its first refresh

    def add(step: int) -> None:
        # Most new entries are "loud" (filtered out of "quiet"); one story is edited each step.
        for n in range(3):
            entries = [
                Entry(
                    source_id=f"s{n}",
                    id=f"s{n}-{k}",
                    title=f"{'Loud' if k % 5 else 'Calm'} story {k}"
                    + (" (edited)" if k == step else ""),
                    link=f"https://s{n}.example/{k}",
                    published=base + timedelta(minutes=10 * k + n),
                    updated=base + timedelta(minutes=10 * k + n),
                    content=f"<p>Story {k} of s{n}{' edited' if k == step else ''}.</p>",
                    content_hash=f"{k}-{k == step}",
                )
                for k in range(step * 4, step * 4 + 12)
            ]
            status = store.source_status(f"s{n}")
            assert status is not None
            store.save_refresh(
                status, FetchResult(FetchStatus.OK, f"https://s{n}.example"), entries, clock[0]
            )

    for step in range(12):
        clock[0] = base + timedelta(hours=step + 1)
        add(step)
        for spec in config.feeds:
            lasting.publish(spec)
            with Pipeline(config, store, clock=lambda: clock[0]) as fresh:
                assert fresh.publish(spec) == [], f"{spec.name} differs at step {step}"
    assert store.has_document("quiet", Format.RSS, page=2)
    assert store.has_document("all", Format.RSS, page=3)
    lasting.close()
    store.close()


def test_rebuilding_without_new_entries_never_changes_a_feed(tmp_path: Path) -> None:
    """Which copy of a story is credited first depends on how far back a rebuild looks; the
    feed must be the same however often it is rebuilt from the same stored entries."""
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    site = Site(
        title="S",
        link="https://s.example/",
        base_url="https://feeds.s.example",
        description="d",
        language="en",
        articles_dir=tmp_path,
    )
    a = Source(id="a", url="https://a.example/feed", title="A")
    b = Source(id="b", url="https://b.example/feed", title="B")
    spec = FeedSpec(name="all", title="All", sources=("*",), limit=40)
    config = Config(site=site, sources=(a, b), feeds=(spec,))
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")

    def story(source: str, n: int, link: str, published: datetime) -> Entry:
        return Entry(
            source_id=source,
            id=f"https://{source}.example/{n}",
            title=f"{source}{n}",
            link=link,
            published=published,
            updated=published,
            content_hash=f"{source}{n}",
        )

    shared = "https://story.example/x"
    entries = {
        "a": [story("a", 0, shared, now)]
        + [
            story("a", n, f"https://a.example/p{n}", now - timedelta(minutes=n))
            for n in range(1, 60)
        ],
        "b": [story("b", 0, shared, now - timedelta(minutes=65))],  # the first to publish it
    }
    with Pipeline(config, store) as pipeline:
        for source in (a, b):
            status = SourceStatus(
                id=source.id,
                url=source.url,
                state=SourceState.OK,
                config_hash=source_config_hash(source),
            )
            result = FetchResult(FetchStatus.OK, source.url, http_status=200)
            store.save_refresh(status, result, entries[source.id], now)
        assert pipeline.publish(spec, [])
        first = store.get_document("all", Format.JSON)
        for _ in range(3):
            assert pipeline.publish(spec, []) == []
        assert store.get_document("all", Format.JSON) == first
    store.close()


def test_a_reload_during_a_publish_takes_effect_after_it(
    tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    outlet = Outlet(tmp_path, upstream, "archive_page_size = 20")
    site = outlet.config_dir / "site.toml"
    site.write_text(
        site.read_text(encoding="utf-8").replace(
            "archive_page_size = 20", "archive_page_size = 10"
        ),
        encoding="utf-8",
    )
    smaller = load_config(outlet.config_dir)
    real = outlet.store.record_feed_items
    reloads: list[threading.Thread] = []

    def recording(*args: Any, **kwargs: Any) -> int:
        if not reloads:  # the config watcher reloads while this publish is under way
            reloads.append(threading.Thread(target=outlet.pipeline.reconfigure, args=(smaller,)))
            reloads[0].start()
            reloads[0].join(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(outlet.store, "record_feed_items", recording)
    outlet.pipeline.update()  # 15 items, pages of 20: none full
    reloads[0].join()
    assert outlet.store.archive_pages("all") == []
    outlet.pipeline.publish_all()  # the same items, pages of 10 now
    assert outlet.store.archive_pages("all") == [(1, 1, 10, False)]
    outlet.close()


def test_a_deleted_article_never_gives_its_number_on_a_written_page_to_a_new_item(
    tmp_path: Path, upstream: Upstream
) -> None:
    # Nine entries, then the newest item, an article: page 1 (items 1-10) ends with it.
    upstream.set("/w.xml", rss(*items(0, 9)))
    feeds = '[[feed]]\nname = "all"\ntitle = "All"\nlocal = true\nsources = ["*"]\nlimit = 15\n'
    config = write_site(
        tmp_path,
        upstream,
        sources=source_toml("w", upstream.url("/w.xml")),
        feeds=feeds,
        site_extra="archive_page_size = 10",
    )
    for old in (config / "articles").glob("*.md"):
        old.unlink()
    late = config / "articles" / "late.md"
    when = datetime.now(UTC) - timedelta(days=1)
    late.write_text(
        f'---\ntitle: "Late"\ndate: {when:%Y-%m-%dT%H:%M:%S}+00:00\n---\nLate news.\n',
        encoding="utf-8",
    )
    with Store(f"sqlite:///{tmp_path / 'feeds.db'}") as store:
        with Pipeline(load_config(config), store) as pipeline:
            pipeline.update()
        assert store.archive_pages("all") == [(1, 1, 10, False)]
        assert [i.title for i in store.feed_items_range("all", 10, 10)] == ["Late"]
        # The article is deleted (it leaves the record) and a new entry comes in: it is
        # numbered 11, after the written page, not 10, where no page would ever show it.
        late.unlink()
        upstream.set("/w.xml", rss(*items(0, 10)))
        with Pipeline(load_config(config), store) as pipeline:
            pipeline.update(force=True)
        assert [i.title for i in store.feed_items_range("all", 1, 10)] == [
            f"Entry {n}" for n in range(8, -1, -1)
        ]
        assert [i.title for i in store.feed_items_range("all", 11, 11)] == ["Entry 9"]
