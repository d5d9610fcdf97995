"""Every document render produces is valid RSS 2.0 / Atom 1.0 / JSON Feed 1.1 (tests/validators.py),
and the validator itself rejects invalid documents."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.articles import load_articles
from feeds.config import load_config
from feeds.merge import merge
from feeds.pipeline import Pipeline
from feeds.render import render_all
from feeds.store import Store
from feeds.times import rfc822, rfc3339, utcnow
from feeds.types import Config, Enclosure, Format, Image, Item, ItemSource, Page, Site
from tests.sites import serve_fixture_feeds, source_toml, write_site
from tests.test_render import ARABIC, ITEMS, LOCAL, PARTNER, SITE, SPEC, WIRE
from tests.upstream import Upstream
from tests.validators import (
    same_ids,
    same_urls,
    uri_problem,
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
    <description>Hi</description>
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

ENCODED = b"<content:encoded>&lt;p&gt;Hi&lt;/p&gt;</content:encoded>"
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
            b"<title>A</title><description>x</description>",
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
        # URIs (issue 9): what a URI may not hold, wherever a URL is published
        (
            b"<link>https://example.com/</link>",
            "<link>https://example.com/مقالة</link>".encode(),
            "'م' must be percent-encoded",
        ),
        (
            b"<guid>https://example.com/a</guid>",
            b"<guid>https://example.com/a^b</guid>",
            "'^' must be percent-encoded",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><enclosure url="https://e.com/ep[1].mp3" length="1" type="a/b"/>',
            "enclosure url is not a valid URI ('[' outside an IPv6 host)",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><source url="https://e.com/a feed">E</source>',
            "<source> url is not an absolute URL",
        ),
        (
            b'href="https://example.com/feed.rss"',
            b'href="https://example.com/feed.rss?a|b"',
            "'|' must be percent-encoded",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><media:content xmlns:media="http://search.yahoo.com/mrss/" '
            b'url="https://e.com/{x}.jpg"/>',
            "<media:content> url is not a valid URI ('{' must be percent-encoded)",
        ),
        (b"https://example.com/a</guid>", b"https://example.com/a#b#c</guid>", "a second '#'"),
        (b"https://example.com/a</guid>", b"https://example.com/%zz</guid>", "'%' must be"),
        # The modified date and the thumbnail (issue 10)
        (
            b"<title>A</title>",
            b'<title>A</title><m:modified xmlns:m="http://purl.org/dc/terms/">'
            b"Wed, 01 May 2024 11:00:00 GMT</m:modified>",
            "<dcterms:modified> not an RFC 3339 date-time",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><m:modified xmlns:m="http://purl.org/dc/terms/">'
            b"2024-05-01T09:59:59Z</m:modified>",
            "<dcterms:modified> 2024-05-01T09:59:59Z is before <pubDate>",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><m:modified xmlns:m="http://purl.org/dc/terms/">'
            b'2024-05-01T11:00:00Z</m:modified><m:modified xmlns:m="http://purl.org/dc/terms/">'
            b"2024-05-01T12:00:00Z</m:modified>",
            "2 <dcterms:modified> elements",
        ),
        (
            b"<title>A</title>",
            b'<title>A</title><media:thumbnail xmlns:media="http://search.yahoo.com/mrss/" '
            b'url="https://e.com/a.jpg" width="wide"/>',
            "<media:thumbnail> width 'wide' is not an integer",
        ),
        # The W3C validator's warnings on items (issue 9)
        (b"    <description>Hi</description>\n", b"", "item[1]: no <description>"),
        (
            b"<description>Hi</description>\n    " + ENCODED,
            ENCODED + b"\n    <description>Hi</description>",
            "<content:encoded> before <description>",
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
        # IRIs (issue 9): ids and hrefs
        (
            b'<link rel="alternate" href="https://example.com/a"/>',
            b'<link rel="alternate" href="https://example.com/a^b"/>',
            "href is not a valid IRI ('^' must be percent-encoded)",
        ),
        (
            b"<id>https://example.com/a</id>",
            b"<id>https://example.com/a[1]</id>",
            "<id> is not a valid IRI ('[' outside an IPv6 host)",
        ),
        (
            b'href="https://example.com/feed.atom"',
            b'href="https://example.com/feed atom"',
            "href is not an absolute IRI",
        ),
        # The W3C validator's warnings on entries (issue 9)
        (
            b'    <content type="html">&lt;p&gt;Hi&lt;/p&gt;</content>\n',
            b"",
            "entry[1]: neither <summary> nor <content>",
        ),
        (
            b"</entry>",
            b"</entry><entry><id>https://example.com/b</id><title>B</title>"
            b"<updated>2024-05-01T12:00:00+02:00</updated><content>x</content></entry>",
            "2 entries have the same <updated>",
        ),
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
        # URIs (issue 9)
        (
            _json(items=[{"id": "1", "content_text": "x", "url": "https://e.com/ü"}]),
            "item[1]: url is not a valid URI ('ü' must be percent-encoded)",
        ),
        (
            _json(items=[{"id": "1", "content_text": "x", "external_url": "https://e.com/a^"}]),
            "item[1]: external_url is not a valid URI ('^'",
        ),
        (
            _json(items=[{"id": "1", "content_text": "x", "image": "https://e.com/<i>.png"}]),
            "item[1]: image is not a valid URI ('<'",
        ),
        (
            _json(
                items=[
                    {
                        "id": "1",
                        "content_text": "x",
                        "attachments": [{"url": "https://e.com/[1].mp3", "mime_type": "a/b"}],
                    }
                ]
            ),
            "attachments[1]: url is not a valid URI ('[' outside an IPv6 host)",
        ),
        (
            _json(items=[{"id": "1", "content_text": "x", "_source": {"url": "https://e.com/`"}}]),
            "item[1]._source: url is not a valid URI",
        ),
        (_json(home_page_url="https://e.com/a\\b"), "home_page_url is not a valid URI"),
    ],
)
def test_json_validator_catches(doc: bytes, expected: str) -> None:
    problems = validate_json_feed(doc)
    assert any(expected in p for p in problems), problems


def test_uris_and_iris_that_are_valid() -> None:
    """Percent-encoded URIs, IPv6 hosts, tag: and urn: ids; IRIs in Atom ids and hrefs."""
    for value in (
        "https://example.com/%D9%85?q=%5B1%5D#top",
        "http://[2001:db8::1]:8080/a",
        "tag:example.com,2026:item/a%20b",
        "urn:uuid:8f14e45f-ceea-467f-a0e6-4f1b2c3d5e6f",
    ):
        assert uri_problem(value) is None, value
    irified = ATOM_OK.replace(b"https://example.com/a<", "https://example.com/مقالة<".encode())
    irified = irified.replace(
        b'href="https://example.com/a"', 'href="https://مثال.example/"'.encode()
    )
    assert validate_atom(irified) == []
    assert uri_problem("https://example.com/مقالة")
    assert uri_problem("https://example.com/مقالة", iri=True) is None


def test_same_urls_catches_disagreement() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, ITEMS))
    assert same_urls(rss, atom, jsonfeed) == []
    changed = json.loads(jsonfeed)
    changed["items"][0]["url"] = "https://www.example.com/other"
    assert same_urls(rss, atom, json.dumps(changed).encode())
    changed = json.loads(jsonfeed)
    changed["items"][1]["attachments"].pop()
    assert same_urls(rss, atom, json.dumps(changed).encode())
    changed = json.loads(jsonfeed)
    del changed["items"][0]["image"]  # the lead image, an enclosure in RSS and Atom
    assert same_urls(rss, atom, json.dumps(changed).encode())
    other = rss.replace(b'url="https://wire.example.org/audio/42.mp3"', b'url="https://e.com/x"')
    assert other != rss
    assert same_urls(other, atom, jsonfeed)
    without = re.sub(rb"<enclosure [^>]*/>", b"", rss)
    assert same_urls(without, atom, jsonfeed)


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

# The inputs of issue 9, rendered over every site and page below: IRIs and [ ] ^ in URLs,
# items without summary, content, link or title.
AWKWARD_SITE = dataclasses.replace(
    RICH_SITE,
    link="https://مثال.example/أخبار",
    base_url="https://feeds.example.com/[x]^",
    hub="https://hub.example.com/ping|now",
    icon="https://www.example.com/icon[1].png",
)
WHEN = datetime(2024, 4, 26, 12, 0, tzinfo=UTC)


def _awkward(n: int, **fields: Any) -> Item:
    when = WHEN - timedelta(minutes=n)
    base = {"id": f"urn:x:awkward-{n}", "title": f"Awkward {n}", "link": "", "summary": ""}
    return Item(published=when, updated=when, **{**base, **fields})


AWKWARD = (
    # An IRI link that is also the id (a local article), with an IRI image.
    _awkward(
        1,
        id="https://www.example.com/ar/مقالة",
        link="https://www.example.com/ar/مقالة",
        summary="ملخص",
        content="<p>نص</p>",
        image=Image(url="https://www.example.com/صور/1.jpg", caption="صورة"),
        language="ar",
    ),
    # A podcast episode: [ ] ^ and a space in its URLs, an IRI source feed.
    _awkward(
        2,
        id="tag:pod.example,2024:ep-2",
        link="https://pod.example/show",
        summary="Episode 2.",
        enclosures=(Enclosure("https://cdn.pod.example/ep[2]^ final.mp3", "audio/mpeg", 10),),
        image=Image(url="https://cdn.pod.example/cover[2].jpg"),
        sources=(ItemSource(id="pod", title="Pod", url="https://pod.example/فيد.xml"),),
    ),
    # Its sibling with the same link (distinct items since issue 9).
    _awkward(3, id="tag:pod.example,2024:ep-3", link="https://pod.example/show", summary="E3."),
    # An upstream id that is a URL with characters no IRI may hold, and equal to the link.
    _awkward(4, id="https://wire.example/a^b{c}", link="https://wire.example/a^b{c}"),
    # No summary, no content: only a title and a link.
    _awkward(5, link="https://wire.example/flash"),
    # No content, a summary, no link.
    _awkward(6, summary="A note without a page."),
    # Content, no summary, no link, no title.
    _awkward(7, title="", content="<p>Only content.</p>"),
    # Nothing at all but an id.
    _awkward(8, title=""),
    # An IPv6 host (brackets allowed there) with brackets in its path (not there).
    _awkward(9, link="http://[2001:db8::1]:8080/a[1]", summary="IPv6."),
)

SITES = {
    "plain": SITE,
    "rich": RICH_SITE,
    "icon-only": dataclasses.replace(SITE, icon="https://www.example.com/icon.png"),
    "logo-only": dataclasses.replace(SITE, logo="https://www.example.com/logo.png"),
    "arabic": dataclasses.replace(
        RICH_SITE, title="صحيفة المثال", description="أخبار", language="ar", copyright=""
    ),
    "awkward": AWKWARD_SITE,
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
    "awkward": AWKWARD,
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


# --------------------------------------------------------------------------- whole sites


def _documents(store: Store, config: Config) -> list[tuple[str, list[tuple[str, bytes]]]]:
    """Every published document of every feed: (where, [(format, body)]) per page."""
    found = []
    for spec in config.feeds:
        pages = [0, *(p.number for p in store.archive_pages(spec.name))]
        for page in pages:
            bodies = []
            for fmt in Format:
                document = store.get_document(spec.name, fmt, page)
                assert document is not None, (spec.name, fmt, page)
                bodies.append((fmt.value, document.body))
            found.append((f"{spec.name} page {page}", bodies))
    return found


def _upstream_rss(n: int, now: datetime, base: str) -> bytes:
    """A source's RSS: an IRI channel link, [ ] ^ and non-ASCII in URLs, a title-only item, a
    link-less item, a content-only item, a podcast's episodes sharing one link, and a story
    every source carries (same link). Source ``n``'s dates are its own (no two the same)."""

    def at(minutes: int) -> str:
        return rfc822(now - timedelta(minutes=n * 100 + minutes))

    episodes = "".join(
        f"""<item><title>Jordan: episode {k}</title><link>{base}show</link>
        <guid isPermaLink="false">ep-{n}-{k}</guid><pubDate>{at(10 + k)}</pubDate>
        <description>Episode {k}.</description>
        <enclosure url="{base}audio/ep[{k}]^.mp3" length="100" type="audio/mpeg"/></item>"""
        for k in range(1, 4)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Source {n}</title>
  <link>https://src{n}.example/أخبار</link>
  <description>Source {n}</description>
  <item>
    <title>Gaza: aid [update] {n}</title>
    <link>https://src{n}.example/غزة/story[{n}]^1</link>
    <guid>https://src{n}.example/غزة/story[{n}]^1</guid>
    <pubDate>{at(1)}</pubDate>
    <description>Aid reached Gaza.</description>
    <content:encoded><![CDATA[<p>Full text from Gaza.</p>
      <p><img src="https://cdn{n}.example/img/صورة[1].jpg" alt=""></p>]]></content:encoded>
    <media:content url="https://cdn{n}.example/img/صورة[1].jpg" medium="image"/>
  </item>
  <item>
    <title>Lebanon: flash {n}</title>
    <link>https://مثال.example/flash/{n}</link>
    <guid isPermaLink="false">flash-{n}</guid>
    <pubDate>{at(2)}</pubDate>
  </item>
  <item>
    <title>Syria: a note {n}</title>
    <guid isPermaLink="false">note-{n}</guid>
    <pubDate>{at(3)}</pubDate>
    <description>A note from Syria, without a page.</description>
  </item>
  <item>
    <title>Iraq: content only {n}</title>
    <link>https://src{n}.example/full/{n}?q=a|b</link>
    <guid isPermaLink="false">full-{n}</guid>
    <pubDate>{at(4)}</pubDate>
    <content:encoded><![CDATA[<p>Only content, from Iraq.</p>]]></content:encoded>
  </item>
  {episodes}
  <item>
    <title>Yemen: the story everyone carries</title>
    <link>https://shared.example/yemen</link>
    <guid isPermaLink="false">shared-{n}</guid>
    <pubDate>{at(20)}</pubDate>
    <description>Everyone reports it.</description>
  </item>
</channel>
</rss>
""".encode()


def _upstream_atom(n: int, now: datetime) -> bytes:
    """A source's Atom: an entry without summary or content, an IRI href, an enclosure."""

    def at(minutes: int) -> str:
        return rfc3339(now - timedelta(minutes=n * 100 + minutes))

    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Source {n}</title>
  <id>urn:x:source-{n}</id>
  <updated>{at(0)}</updated>
  <entry>
    <title>Beirut: title and link only {n}</title>
    <id>urn:x:{n}:1</id>
    <link href="https://src{n}.example/بيروت/{{1}}"/>
    <updated>{at(1)}</updated>
  </entry>
  <entry>
    <title>Gaza: with an enclosure {n}</title>
    <id>urn:x:{n}:2</id>
    <link href="https://src{n}.example/gaza/2"/>
    <link rel="enclosure" href="https://cdn{n}.example/v[2]^.mp4" type="video/mp4" length="5"/>
    <updated>{at(2)}</updated>
    <content type="html">&lt;p&gt;Gaza.&lt;/p&gt;</content>
  </entry>
</feed>
""".encode()


def _upstream_json(n: int, now: datetime) -> bytes:
    def at(minutes: int) -> str:
        return rfc3339(now - timedelta(minutes=n * 100 + minutes))

    items = [
        {
            "id": f"j{n}-1",
            "url": f"https://src{n}.example/عمان/1",
            "title": "Amman: a JSON item",
            "content_text": "Plain text only.",
            "date_published": at(1),
            "attachments": [{"url": f"https://cdn{n}.example/a[1].mp3", "mime_type": "audio/mpeg"}],
        },
        {"id": f"j{n}-2", "title": "Syria: title only", "date_published": at(2)},
    ]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": f"Source {n}", "items": items}
    return json.dumps(doc, ensure_ascii=False).encode()


def _serve_awkward(upstream: Upstream, n: int, now: datetime) -> str:
    """Serve source ``n`` (RSS, Atom or JSON Feed in turn); its URL."""
    kind = ("rss", "atom", "json")[n % 3]
    body = {
        "rss": lambda: _upstream_rss(n, now, upstream.url(f"/s{n}/")),
        "atom": lambda: _upstream_atom(n, now),
        "json": lambda: _upstream_json(n, now),
    }[kind]()
    types = {
        "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "json": "application/json",
    }
    upstream.set(f"/s{n}.{kind}", body, headers={"Content-Type": types[kind]})
    return upstream.url(f"/s{n}.{kind}")


def _publish_everything(
    config_dir: Path, db: str, now: datetime, failing: tuple[str, ...] = ()
) -> list[str]:
    """``update`` at ``now`` (only the sources ``failing`` fail); the problems of every
    published document (none expected)."""
    config = load_config(config_dir)
    store = Store(db)
    try:
        with Pipeline(config, store, clock=lambda: now) as pipeline:
            report = pipeline.update()
        errors = {o.source_id: o.error for o in report.outcomes if o.error}
        assert sorted(errors) == sorted(failing), errors
        assert all(o.new for o in report.outcomes if o.source_id not in failing)
        problems = []
        documents = _documents(store, config)
        assert documents
        for where, bodies in documents:
            problems += [f"{where}: {p}" for p in validate(bodies)]
        return problems
    finally:
        store.close()


def test_the_shipped_config_publishes_valid_documents_from_its_sources(
    tmp_path: Path, upstream: Upstream
) -> None:
    """config/ as shipped (its feeds, filters, limits, articles), every source answered from
    loopback with awkward documents: every document it publishes passes, with no warning."""
    root = tmp_path / "shipped"
    shutil.copytree(CONFIG, root / "config")
    shutil.copytree(CONFIG.parent / "content", root / "content")
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # after the shipped articles
    sources = (root / "config" / "sources.toml").read_text(encoding="utf-8")
    urls = re.findall(r'^url = "([^"]+)"$', sources, re.MULTILINE)
    assert len(urls) >= 3
    for n, url in enumerate(urls):
        sources = sources.replace(f'url = "{url}"', f'url = "{_serve_awkward(upstream, n, now)}"')
    (root / "config" / "sources.toml").write_text(sources, encoding="utf-8")
    site_toml = (root / "config" / "site.toml").read_text(encoding="utf-8")
    site_toml = site_toml.replace(
        "allow_private_addresses = false",
        "allow_private_addresses = true\nhost_spacing = 0\nper_host = 8",
    )
    (root / "config" / "site.toml").write_text(site_toml, encoding="utf-8")
    assert _publish_everything(root / "config", f"sqlite:///{root / 'feeds.db'}", now) == []


def test_the_test_config_publishes_valid_documents(tmp_path: Path, upstream: Upstream) -> None:
    """The test suite's site (tests/fixtures/site and its loopback sources), with an awkward
    source added: every document it publishes passes, with no warning."""
    serve_fixture_feeds(upstream)
    now = utcnow()
    extra = source_toml("awkward", _serve_awkward(upstream, 0, now), tags=["humanitarian"])
    config_dir = write_site(tmp_path, upstream, extra)
    db = f"sqlite:///{tmp_path / 'feeds.db'}"
    assert _publish_everything(config_dir, db, now, failing=("down",)) == []
