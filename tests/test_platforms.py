"""The platforms' feed rules (feeds.platforms): every rule can fail, on a document built to
break it, and a document that follows them all passes every platform."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.platforms import PLATFORMS, Violation, check_feed
from feeds.render import render_all
from feeds.types import FeedSpec, Format, Image, Item, Site

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

SITE = Site(
    title="The Example Times",
    link="https://www.example.com/",
    base_url="https://feeds.example.com",
    description="News from Example",
    language="en-GB",
    articles_dir=Path("content"),
    logo="https://www.example.com/logo.png",
)
SPEC = FeedSpec(name="world", title="World", description="Our world reporting", local=True)


def story(n: int, **changes: object) -> Item:
    """A story that follows every platform's rules."""
    link = f"https://www.example.com/2026/11/story-{n}"
    item = Item(
        id=link,
        title=f"Story number {n} of the week, in full detail",
        link=link,
        published=NOW - timedelta(hours=n + 1),
        updated=NOW - timedelta(hours=n + 1),
        authors=("A Correspondent",),
        summary=f"What happened in story {n}.",
        content=f"<p>The whole of story {n}.</p>",
        image=Image(
            url=f"https://www.example.com/img/{n}.jpg",
            caption="A caption",
            credit="Photo: Example",
            width=1600,
            height=900,
            type="image/jpeg",
        ),
    )
    return dataclasses.replace(item, **changes)


GOOD = [story(n) for n in range(25)]


def bodies(
    items: list[Item] | None = None, site: Site = SITE, spec: FeedSpec = SPEC
) -> dict[Format, bytes]:
    rendered = render_all(site, spec, GOOD if items is None else items)
    return {r.format: r.body for r in rendered}


def check(platform: str, documents: dict[Format, bytes]) -> list[Violation]:
    return check_feed(PLATFORMS[platform], SPEC.name, documents, NOW)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_feed_that_follows_the_rules_passes_every_platform(platform: str) -> None:
    assert check(platform, bodies()) == []


def with_content(size: int) -> Callable[[Item], Item]:
    return lambda item: dataclasses.replace(item, content="<p>" + "x" * size + "</p>")


def rss_edit(old: str, new: str, count: int = 1) -> Callable[[dict[Format, bytes]], None]:
    """An edit of the RSS bytes, for what render never writes wrong."""

    def edit(documents: dict[Format, bytes]) -> None:
        text = documents[Format.RSS].decode()
        edited = re.sub(old, new, text, count=count)
        assert edited != text
        documents[Format.RSS] = edited.encode()

    return edit


def items(count: int, **changes: object) -> list[Item]:
    return [story(n, **changes) for n in range(count)]


def one(**changes: object) -> list[Item]:
    """The good items, the first of them changed."""
    return [story(0, **changes), *GOOD[1:]]


# (platform, rule, documents, the item a violation names, what its line says)
CASES: list[tuple[str, str, Callable[[], dict[Format, bytes]], str, str]] = [
    (
        "google-news",
        "feed-size",
        lambda: bodies([with_content(90_000)(s) for s in GOOD]),
        "-",
        "bytes (Google News reads 2 MB per feed: set max_bytes)",
    ),
    (
        "google-news",
        "item-size",
        lambda: bodies([with_content(1_000_000)(GOOD[0]), *GOOD[1:]]),
        GOOD[0].id,
        "bytes (Google News reads 1 MB per article)",
    ),
    ("google-news", "item-count", lambda: bodies(items(61)), "-", "61 items"),
    (
        "google-news",
        "guid",
        lambda: _edited(rss_edit(r"<guid[^>]*>[^<]*</guid>", "")),
        GOOD[0].link,
        "no <guid>",
    ),
    (
        "google-news",
        "guid-permalink",
        lambda: _edited(
            rss_edit('isPermaLink="false"', 'isPermaLink="true"'),
            [story(0, id="story-0"), *GOOD[1:]],
        ),
        "tag:www.example.com,",
        'isPermaLink="true"',
    ),
    (
        "msn",
        "feed-size",
        lambda: {**bodies(), Format.ATOM: b"<feed>" + b" " * 10_000_000 + b"</feed>"},
        "-",
        "the Atom document is 10,000,013 bytes (MSN reads feeds of 10 MB at most",
    ),
    (
        "msn",
        "https",
        lambda: bodies(site=dataclasses.replace(SITE, base_url="http://feeds.example.com")),
        "-",
        "http://feeds.example.com/feeds/world.rss is not https",
    ),
    (
        "msn",
        "https",
        lambda: bodies(one(link="http://www.example.com/a", id="https://www.example.com/a")),
        "https://www.example.com/a",
        "http://www.example.com/a is not https",
    ),
    (
        "msn",
        "required",
        lambda: bodies([dataclasses.replace(s, content="") for s in GOOD]),  # summaries only
        GOOD[0].id,
        "no <content:encoded> (MSN requires an article's id, title, published date, body and "
        'link: it needs the full text: content = "full" in feeds.toml)',
    ),
    ("msn", "title-length", lambda: bodies(one(title="Short title")), GOOD[0].id, "11 characters"),
    (
        "msn",
        "title-length",
        lambda: bodies(one(title="Long " * 31)),
        GOOD[0].id,
        "the title has 154 characters (MSN wants more than 20 and at most 150 characters)",
    ),
    (
        "msn",
        "age",
        lambda: bodies([*GOOD[1:], story(0, published=NOW - timedelta(days=400), updated=NOW)]),
        GOOD[0].id,
        "published 400 days ago",
    ),
    (
        "msn",
        "age",
        lambda: bodies(one(published=NOW + timedelta(hours=1), updated=NOW + timedelta(hours=1))),
        GOOD[0].id,
        "published in the future",
    ),
    ("msn", "image", lambda: bodies(one(image=None)), GOOD[0].id, "no image"),
    (
        "msn",
        "image-size",
        lambda: bodies(one(image=dataclasses.replace(GOOD[0].image, width=600, height=400))),
        GOOD[0].id,
        "the image is 600×400 px (MSN wants at least 720 px in height or width)",
    ),
    (
        "flipboard",
        "channel",
        lambda: bodies(site=dataclasses.replace(SITE, language="")),
        "-",
        "the channel has no <language>",
    ),
    (
        "flipboard",
        "required",
        lambda: bodies(one(authors=())),
        GOOD[0].id,
        "no <dc:creator> (Flipboard asks for it in every item: it needs an author)",
    ),
    ("flipboard", "item-count", lambda: bodies(items(19)), "-", "19 items"),
    ("flipboard", "image", lambda: bodies(one(image=None)), GOOD[0].id, "no image"),
    (
        "flipboard",
        "image-size",
        lambda: bodies(one(image=dataclasses.replace(GOOD[0].image, width=800, height=450))),
        GOOD[0].id,
        "the image is 800×450 px (Flipboard wants an image whose smallest side is 500 px",
    ),
    (
        "apple-news",
        "channel",
        lambda: bodies(site=dataclasses.replace(SITE, language="")),
        "-",
        "the channel has no <language> (Apple News requires it)",
    ),
    (
        "apple-news",
        "language",
        lambda: bodies(site=dataclasses.replace(SITE, language="en")),
        "-",
        "the channel's language 'en' names no region",
    ),
    (
        "apple-news",
        "required",
        lambda: bodies(one(link="", id="https://www.example.com/no-link")),
        "https://www.example.com/no-link",
        "no <link> (Apple News requires it)",
    ),
    (
        "apple-news",
        "title-length",
        lambda: bodies(one(title="A headline that goes on and on for well over sixty characters")),
        GOOD[0].id,
        "the title has 61 characters (Apple News: titles should be 15 to 60 characters)",
    ),
    (
        "smartnews",
        "feed-size",
        lambda: bodies([with_content(45_000)(s) for s in GOOD]),
        "-",
        "(SmartNews recommends 1 MB per file at most: set max_bytes)",
    ),
    (
        "smartnews",
        "channel",
        lambda: _edited(rss_edit(r"<pubDate>[^<]*</pubDate>\s*<lastBuildDate>", "<lastBuildDate>")),
        "-",
        "the channel has no <pubDate> (SmartFormat requires it)",
    ),
    (
        "smartnews",
        "description-length",
        lambda: bodies(spec=dataclasses.replace(SPEC, description="x" * 31)),
        "-",
        "the channel's <description> has 31 characters",
    ),
    (
        "smartnews",
        "required",
        lambda: bodies(one(link="", id="https://www.example.com/no-link")),
        "https://www.example.com/no-link",
        "no <link> (SmartFormat requires it)",
    ),
]


def _edited(
    edit: Callable[[dict[Format, bytes]], None], items: list[Item] | None = None
) -> dict[Format, bytes]:
    documents = bodies(items)
    edit(documents)
    return documents


def test_every_rule_has_a_case() -> None:
    rules = {(name, rule.id) for name, p in PLATFORMS.items() for rule in p.rules}
    assert {(platform, rule) for platform, rule, *_ in CASES} == rules


@pytest.mark.parametrize(
    ("platform", "rule", "build", "item", "says"),
    CASES,
    ids=[f"{platform}-{rule}-{n}" for n, (platform, rule, *_) in enumerate(CASES)],
)
def test_each_rule_can_fail(
    platform: str,
    rule: str,
    build: Callable[[], dict[Format, bytes]],
    item: str,
    says: str,
) -> None:
    violations = check(platform, build())
    assert violations, "no violation"
    # The document breaks the rule it was built to break, and no other.
    assert {v.rule for v in violations} == {rule}, [str(v) for v in violations]
    lines = [str(v) for v in violations]
    assert any(line.startswith(f"world: {item}") and says in line for line in lines), lines


def test_unpublished_and_unreadable_feeds() -> None:
    [unpublished] = check("google-news", {})
    assert str(unpublished) == "world: -: not published yet (run feeds update)"
    [unreadable] = check("msn", {Format.RSS: b"<rss><channel>"})
    assert unreadable.rule == "readable"
    assert str(unreadable).startswith("world: -: the RSS document cannot be read: not well-formed")
    doctype = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss><channel/></rss>'
    [refused] = check("msn", {Format.RSS: doctype})
    assert "declares a DOCTYPE" in str(refused)
    [atom] = check("msn", {Format.RSS: b"<feed/>"})
    assert atom.message == "the RSS document cannot be read: not an RSS 2.0 document"


def test_sizes_unknown_are_not_judged_and_a_large_image_among_small_ones_passes() -> None:
    unsized = dataclasses.replace(GOOD[0].image, width=None, height=None)
    assert check("flipboard", bodies(one(image=unsized))) == []
    assert check("msn", bodies(one(image=unsized))) == []
    small_thumbnail = _edited(
        rss_edit(r'(<media:thumbnail [^>]*)width="1600" height="900"', r'\1width="90" height="90"')
    )
    assert b'width="90" height="90"' in small_thumbnail[Format.RSS]
    assert check("flipboard", small_thumbnail) == []


def test_docs_cite_every_platform_source_and_rule() -> None:
    """docs/platforms.md has a section per platform naming each of its rules, and cites the
    documentation every rule is written from."""
    text = (Path(__file__).parent.parent / "docs" / "platforms.md").read_text(encoding="utf-8")
    sections = re.split(r"^### ", text, flags=re.MULTILINE)
    for name, platform in PLATFORMS.items():
        [section] = [s for s in sections if s.startswith(f"{platform.title} (`{name}`)")]
        documented = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))
        assert documented == {rule.id for rule in platform.rules}, name
        for source in platform.sources:
            assert f"]({source})" in section, source
