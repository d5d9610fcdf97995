"""merge.py: selection, filters, de-duplication, ordering, limits. Pure, so no fixtures."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.ids import item_id
from feeds.merge import merge
from feeds.types import Article, ContentMode, Entry, FeedSpec, ItemSource, Site

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = Site(
    title="Outlet",
    link="https://outlet.example/",
    base_url="https://feeds.outlet.example",
    description="d",
    language="en",
    articles_dir=Path("."),
)
SOURCES = {
    "wire": ItemSource("wire", "Wire", "https://wire.example/feed"),
    "un": ItemSource("un", "UN News", "https://un.example/rss"),
}


def art(slug: str, hours_ago: float, tags: tuple[str, ...] = ()) -> Article:
    when = NOW - timedelta(hours=hours_ago)
    return Article(
        slug=slug,
        title=f"Article {slug}",
        link=f"https://outlet.example/{slug}",
        published=when,
        updated=when,
        summary=f"About {slug}",
        content="<p>x</p>",
        tags=tags,
    )


def ent(source: str, n: str, hours_ago: float, link: str | None = None, title: str = "") -> Entry:
    when = NOW - timedelta(hours=hours_ago)
    return Entry(
        source_id=source,
        id=n,
        title=title or f"Entry {n}",
        link=link if link is not None else f"https://{source}.example/{n}",
        published=when,
        updated=when,
        summary="<p>Summary &amp; more</p>",
        content="<p>Full</p>",
    )


def spec(**kw: object) -> FeedSpec:
    base: dict[str, object] = {"name": "all", "title": "All", "local": True, "sources": ("*",)}
    base.update(kw)
    return FeedSpec(**base)  # type: ignore[arg-type]


def test_newest_first_and_limit() -> None:
    items = merge(
        spec(limit=3),
        SITE,
        [art("a", 5), art("b", 1)],
        [ent("wire", "1", 2), ent("un", "2", 0.5), ent("wire", "3", 9)],
        SOURCES,
        NOW,
    )
    assert [i.title for i in items] == ["Entry 2", "Article b", "Entry 1"]


def test_local_selection_by_tags_and_none() -> None:
    articles = [art("a", 1, ("gaza",)), art("b", 2, ("jordan",)), art("c", 3)]
    tagged = merge(spec(local=("gaza", "jordan"), sources=()), SITE, articles, [], SOURCES, NOW)
    assert [i.link.rsplit("/", 1)[1] for i in tagged] == ["a", "b"]
    assert merge(spec(local=False), SITE, articles, [], SOURCES, NOW) == []


def test_same_story_from_two_sources_appears_once_crediting_both() -> None:
    link = "https://story.example/x"
    items = merge(
        spec(),
        SITE,
        [],
        [ent("un", "b", 1, link=link), ent("wire", "a", 2, link=link)],
        SOURCES,
        NOW,
    )
    assert len(items) == 1
    assert [s.id for s in items[0].sources] == ["wire", "un"]  # first publisher first


def test_local_article_wins_over_upstream_copy() -> None:
    a = art("x", 3)
    items = merge(spec(), SITE, [a], [ent("wire", "1", 1, link=a.link)], SOURCES, NOW)
    assert [(i.id, i.sources) for i in items] == [(a.link, ())]


def test_filters_include_exclude_and_max_age() -> None:
    entries = [
        ent("wire", "1", 1, title="Aid convoy reaches Rafah"),
        ent("wire", "2", 2, title="Football: cup final"),
        ent("wire", "3", 30, title="Aid talks resume"),
    ]
    items = merge(
        spec(local=False, include=("aid",), exclude=("football",), max_age=timedelta(days=1)),
        SITE,
        [],
        entries,
        SOURCES,
        NOW,
    )
    assert [i.title for i in items] == ["Aid convoy reaches Rafah"]


def test_summary_mode_drops_content_and_summary_is_plain_text() -> None:
    items = merge(spec(content=ContentMode.SUMMARY), SITE, [], [ent("wire", "1", 1)], SOURCES, NOW)
    assert items[0].content == ""
    assert items[0].summary == "Summary & more"


def test_deterministic_whatever_the_input_order() -> None:
    articles = [art(str(n), n % 7) for n in range(10)]
    entries = [ent("wire", str(n), n % 5) for n in range(30)] + [
        ent("un", str(n), n % 3) for n in range(30)
    ]
    expected = merge(spec(limit=25), SITE, articles, entries, SOURCES, NOW)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(articles)
        rng.shuffle(entries)
        assert merge(spec(limit=25), SITE, articles, entries, SOURCES, NOW) == expected


def test_item_ids_are_iris() -> None:
    assert item_id(SITE, "wire", "https://wire.example/1") == "https://wire.example/1"
    assert item_id(SITE, "wire", "urn:uuid:1234") == "urn:uuid:1234"
    assert item_id(SITE, "wire", "12345") == "tag:outlet.example,2026:wire/12345"
    assert item_id(SITE, "wire", "a b/c") == "tag:outlet.example,2026:wire/a%20b%2Fc"
