"""Every document render produces is valid RSS 2.0 / Atom 1.0 / JSON Feed 1.1 (tests/validators.py),
and the validator itself rejects invalid documents."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.articles import load_articles
from feeds.config import load_config
from feeds.merge import merge
from feeds.render import render_all
from feeds.types import Enclosure, Format, Image, Item, ItemSource, Page, Site
from tests.test_render import ARABIC, ITEMS, LOCAL, PARTNER, SITE, SPEC, WIRE
from tests.validators import (
    same_ids,
    validate,
    validate_atom,
    validate_json_feed,
    validate_rss,
)

CONFIG = Path(__file__).parent.parent / "config"

# --------------------------------------------------------------------------- the validator can fail

RSS_OK = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>T</title>
  <link>https://example.com/</link>
  <description>D</description>
  <atom:link rel="self" type="application/rss+xml" href="https://example.com/feed.rss"/>
  <item>
    <title>A</title>
    <guid>https://example.com/a</guid>
    <pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>
    <content:encoded>&lt;p&gt;Hi&lt;/p&gt;</content:encoded>
  </item>
</channel>
</rss>
"""

ATOM_OK = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>https://example.com/feed.atom</id>
  <title>T</title>
  <updated>2024-05-01T10:00:00Z</updated>
  <author><name>N</name></author>
  <link rel="self" type="application/atom+xml" href="https://example.com/feed.atom"/>
  <entry>
    <id>https://example.com/a</id>
    <title>A</title>
    <updated>2024-05-01T10:00:00Z</updated>
    <link rel="alternate" href="https://example.com/a"/>
    <content type="html">&lt;p&gt;Hi&lt;/p&gt;</content>
  </entry>
</feed>
"""

JSON_OK = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "T",
    "items": [{"id": "1", "content_text": "Hi", "date_published": "2024-05-01T10:00:00Z"}],
}


def _json(**changes: object) -> bytes:
    doc = {**JSON_OK, **changes}
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


def test_the_valid_samples_are_valid() -> None:
    assert validate_rss(RSS_OK) == []
    assert validate_atom(ATOM_OK) == []
    assert validate_json_feed(_json()) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"  <link>https://example.com/</link>\n", b"", "channel: missing <link>"),
        (b"<link>https://example.com/</link>", b"<link>/home</link>", "not an absolute URL"),
        (b"<description>D</description>", b"", "channel: missing <description>"),
        (b"<guid>https://example.com/a</guid>", b"<guid>a-42</guid>", "isPermaLink true or absent"),
        (
            b"<guid>https://example.com/a</guid>",
            b'<guid isPermaLink="true">/a</guid>',
            "isPermaLink true or absent",
        ),
        (b"10:00:00 GMT", b"10:00:00 EST", "RFC 822"),
        (b"Wed, 01 May 2024", b"Wed, 01 May 24", "4-digit year"),
        (b"Wed, 01 May 2024", b"Thu, 01 May 2024", "wrong day of the week"),
        (
            b"<title>A</title>",
            b"<title>A</title><author>Jane Doe</author>",
            "<author> without an e-mail",
        ),
        (
            b"<title>A</title>",
            b"<title>A</title><description>x</description><description>y</description>",
            "2 <description> elements",
        ),
        (
            b"&lt;p&gt;Hi&lt;/p&gt;",
            b"&lt;p&gt;Hi&lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;",
            "contains <script>",
        ),
        (b"&lt;p&gt;Hi", b'&lt;p onclick="x()"&gt;Hi', "event handler onclick"),
        (b"&lt;p&gt;Hi", b'&lt;img src="/i.png"&gt;&lt;p&gt;Hi', "relative URL"),
        (b"<title>A</title>", b"<title>A &lt;b&gt;bold&lt;/b&gt;</title>", "HTML markup"),
        (b"<title>A</title>", b"<title>A \xc2\x85</title>", "control characters"),
        (b'rel="self" type="application/rss+xml" ', b'rel="self" ', "self <atom:link> has no type"),
        (b'<atom:link rel="self"', b'<atom:link rel="alternate"', "missing <atom:link rel='self'>"),
        (
            b"</item>",
            b"</item><item><title>B</title><guid>https://example.com/a</guid></item>",
            "used by 2 items",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><enclosure url="https://e.com/a.mp3" type="audio/mpeg"/>',
            "enclosure length",
        ),
        (b"<channel>", b"<channel><language>not a tag!</language>", "not a language tag"),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n', b"", "no XML declaration"),
        (b"</channel>", b"", "not well-formed"),
        (
            b"<channel>",
            b'<channel xmlns:fh="http://purl.org/syndication/history/1.0"><fh:archive/>',
            "without a rel='current' link",
        ),
        (
            b"<channel>",
            b'<channel><atom:link rel="prev-archive" href="archive/1.rss"/>',
            "rel='prev-archive' link is not an absolute URL",
        ),
    ],
)
def test_rss_validator_catches(old: bytes, new: bytes, expected: str) -> None:
    assert old in RSS_OK
    problems = validate_rss(RSS_OK.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"  <id>https://example.com/feed.atom</id>\n", b"", "feed: missing <atom:id>"),
        (b"<updated>2024-05-01T10:00:00Z</updated>", b"<updated>2024-05-01</updated>", "RFC 3339"),
        (b"<id>https://example.com/a</id>", b"<id>a-42</id>", "not an absolute IRI"),
        (
            b"</entry>",
            b"</entry><entry><id>https://example.com/a</id><title>B</title>"
            b"<updated>2024-05-01T10:00:00Z</updated><content>x</content></entry>",
            "used by 2 entries",
        ),
        (b"<author><name>N</name></author>", b"", "no author"),
        (
            b'<link rel="alternate" href="https://example.com/a"/>',
            b'<link rel="alternate" href="https://example.com/a"/>'
            b'<link rel="alternate" href="https://example.com/b"/>',
            "2 alternate links",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><link rel="enclosure" href="https://e.com/a.mp3"/>',
            "without length and type",
        ),
        (
            b'<content type="html">&lt;p&gt;Hi&lt;/p&gt;</content>',
            b'<content type="html"><p xmlns="http://www.w3.org/1999/xhtml">Hi</p></content>',
            "not child elements",
        ),
        (
            b"</entry>",
            b"<source><id>https://e.com/f</id></source></entry>",
            "source: missing <atom:title>",
        ),
        (b"<entry>", b'<entry xml:lang="english please">', "xml:lang"),
        (b"&lt;p&gt;Hi", b"&lt;script&gt;x()&lt;/script&gt;&lt;p&gt;Hi", "contains <script>"),
    ],
)
def test_atom_validator_catches(old: bytes, new: bytes, expected: str) -> None:
    assert old in ATOM_OK
    problems = validate_atom(ATOM_OK.replace(old, new, 1))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (_json(version=None), "version"),
        (_json(version="https://jsonfeed.org/version/1"), "version"),
        (_json(title=None), "title is required"),
        (_json(items=None), "items is required"),
        (_json(items=[{"content_text": "x"}]), "id is required"),
        (_json(items=[{"id": 1, "content_text": "x"}]), "id is required"),
        (_json(items=[{"id": "1"}]), "content_html or content_text"),
        (_json(items=[{"id": "1", "content_text": "x"}] * 2), "used by 2 items"),
        (_json(home_page_url="/home"), "not an absolute URL"),
        (_json(items=[{"id": "1", "content_text": "x", "date_published": "May 1"}]), "RFC 3339"),
        (_json(author={"name": "N"}), "1.1 uses 'authors'"),
        (_json(authors=[{"email": "n@e.com"}]), "at least one of name, url, avatar"),
        (_json(source="x"), "extensions start with '_'"),
        (
            _json(items=[{"id": "1", "content_html": "<p onload='x()'>x</p>"}]),
            "event handler",
        ),
        (
            _json(items=[{"id": "1", "content_text": "x", "attachments": [{"url": "a.mp3"}]}]),
            "mime_type is required",
        ),
        (b"{not json", "not JSON"),
    ],
)
def test_json_validator_catches(doc: bytes, expected: str) -> None:
    problems = validate_json_feed(doc)
    assert any(expected in p for p in problems), problems


def test_same_ids_catches_disagreement() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, ITEMS))
    reordered = json.loads(jsonfeed)
    reordered["items"].reverse()
    assert same_ids(rss, atom, jsonfeed) == []
    assert same_ids(rss, atom, json.dumps(reordered).encode())


# --------------------------------------------------------------------------- what render produces

RICH_SITE = dataclasses.replace(
    SITE,
    hub="https://pubsubhubbub.example.com/",
    icon="https://www.example.com/icon-512.png",
    logo="https://www.example.com/logo-wide.png",
)
ARABIC_AR = dataclasses.replace(
    ARABIC,
    language="ar",
    image=Image(
        url="https://www.example.com/ar/img/1.jpg",
        caption="صورة من بيروت",
        credit="تصوير: مايا حداد",
        width=1600,
        height=900,
        type="image/jpeg",
    ),
)
NASTY = Item(
    id="upstream id with spaces & <stuff>",
    title="A & B <c> ]]> d \x01\x08\x85\x9f end",
    link="https://wire.example.org/nasty?a=1&b=2",
    published=datetime(2024, 4, 28, 6, 0, tzinfo=UTC),
    updated=datetime(2024, 4, 28, 6, 0, tzinfo=UTC),
    authors=("Ann\x0b",),
    summary="x ]]> & y <z> \x0c",
    content="<p>a ]]&gt; b &amp; c \x02 <b>bold</b></p>",
    enclosures=(Enclosure(url="https://wire.example.org/v.mp4"),),  # no type, no length
    sources=(ItemSource(id="wire", title="", url="https://wire.example.org/feed.xml"),),
)
UNTITLED = Item(
    id="42",
    title="",
    link="",
    published=datetime(2024, 4, 27, 6, 0, tzinfo=UTC),
    updated=datetime(2024, 4, 27, 6, 0, tzinfo=UTC),
    summary="A note without a title or a link.",
)
RICH = (LOCAL, WIRE, PARTNER, ARABIC_AR, NASTY, UNTITLED)

SITES = {
    "plain": SITE,
    "rich": RICH_SITE,
    "icon-only": dataclasses.replace(SITE, icon="https://www.example.com/icon.png"),
    "logo-only": dataclasses.replace(SITE, logo="https://www.example.com/logo.png"),
    "arabic": dataclasses.replace(
        RICH_SITE, title="صحيفة المثال", description="أخبار", language="ar", copyright=""
    ),
    "bare": Site(
        title="",
        link="https://bare.example.com/",
        base_url="https://feeds.bare.example.com/",
        description="",
        language="",
        articles_dir=Path("x"),
    ),
}
PAGES = {
    "current": Page(),
    "current-prev": Page(prev_archive=7),
    "current-ttl-15m": Page(prev_archive=7, ttl=timedelta(minutes=15)),
    "current-ttl-2h": Page(ttl=timedelta(hours=2)),
    "current-ttl-13m": Page(ttl=timedelta(minutes=13, seconds=40)),
    "current-ttl-30s": Page(ttl=timedelta(seconds=30)),
    "oldest-archive": Page(number=1, next_archive=2),
    "middle-archive": Page(number=4, prev_archive=3, next_archive=5),
    "newest-archive": Page(number=7, prev_archive=6),
}
ITEM_SETS: dict[str, tuple[Item, ...]] = {
    "rich": RICH,
    "empty": (),
    "one": (ARABIC_AR,),
}


@pytest.mark.parametrize("page", list(PAGES), ids=list(PAGES))
@pytest.mark.parametrize("site", list(SITES), ids=list(SITES))
@pytest.mark.parametrize("items", list(ITEM_SETS), ids=list(ITEM_SETS))
def test_everything_render_produces_is_valid(items: str, site: str, page: str) -> None:
    rendered = render_all(SITES[site], SPEC, ITEM_SETS[items], PAGES[page])
    assert validate((r.format.value, r.body) for r in rendered) == []


def test_rich_items_keep_their_ids_in_every_format() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(RICH_SITE, SPEC, RICH))
    assert same_ids(rss, atom, jsonfeed) == []
    doc = json.loads(jsonfeed)
    ids = [item["id"] for item in doc["items"]]
    assert ids[:4] == [
        LOCAL.id,
        WIRE.id,
        "urn:uuid:8f14e45f-ceea-467f-a0e6-4f1b2c3d5e6f",
        ARABIC.id,
    ]
    assert (
        ids[4] == "tag:www.example.com,2026:item/upstream%20id%20with%20spaces%20%26%20%3Cstuff%3E"
    )
    assert ids[5] == "tag:www.example.com,2026:item/42"


# --------------------------------------------------------------------------- the shipped config


def _shipped_feeds() -> list[str]:
    config = load_config(CONFIG, environ={"FEEDS_ALLOW_PRIVATE_ADDRESSES": "1"})
    return [spec.name for spec in config.feeds]


@pytest.mark.parametrize("name", _shipped_feeds())
def test_shipped_config_publishes_valid_feeds(name: str) -> None:
    config = load_config(CONFIG, environ={"FEEDS_ALLOW_PRIVATE_ADDRESSES": "1"})
    articles, article_problems = load_articles(config.site)
    assert article_problems == []
    spec = config.feed(name)
    assert spec is not None
    now = max((a.updated for a in articles), default=datetime(2026, 1, 1, tzinfo=UTC))
    items = merge(spec, config.site, articles, [], {}, now)
    if spec.local is True:
        assert items, f"feed {name!r} selects no articles"
    for page in (Page(), Page(prev_archive=1, ttl=timedelta(minutes=30)), Page(number=1)):
        rendered = render_all(config.site, spec, items, page)
        assert [r.format for r in rendered] == [Format.RSS, Format.ATOM, Format.JSON]
        assert validate((r.format.value, r.body) for r in rendered) == []
