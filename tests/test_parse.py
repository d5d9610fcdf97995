"""feeds.parse: golden files (parse + normalize) and the awkward inputs real upstreams send.

Golden files live in tests/golden/parse/: a sample feed beside ``NAME.expected.json``, the
normalized Entry list for a fixed ``now``. FEEDS_UPDATE_GOLDEN=1 rewrites the expected files.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feeds.errors import ParseError
from feeds.normalize import normalize_feed
from feeds.parse import parse
from feeds.types import Enclosure, Image, ParsedFeed

GOLDEN = Path(__file__).parent / "golden" / "parse"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SAMPLES = sorted(p for p in GOLDEN.iterdir() if not p.name.endswith(".expected.json"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(type(value))


def _result(sample: Path) -> dict[str, Any]:
    url = f"https://example.com/feeds/{sample.name}"
    feed = parse(sample.read_bytes(), url)
    entries = normalize_feed(feed, "sample", url, NOW)
    return {
        "title": feed.title,
        "link": feed.link,
        "ttl": feed.ttl,
        "entries": [dataclasses.asdict(e) for e in entries],
    }


def test_golden_samples_present() -> None:
    names = {p.name for p in SAMPLES}
    assert {
        "rss2.xml",
        "rss1.rdf",
        "rss091.xml",
        "atom10.xml",
        "atom03.xml",
        "jsonfeed11.json",
        "jsonfeed10.json",
    } <= names


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_golden(sample: Path) -> None:
    expected_path = sample.with_name(sample.name.rsplit(".", 1)[0] + ".expected.json")
    actual = json.dumps(_result(sample), default=_jsonable, ensure_ascii=False, indent=2) + "\n"
    if os.environ.get("FEEDS_UPDATE_GOLDEN") == "1":
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"run with FEEDS_UPDATE_GOLDEN=1 to create {expected_path}"
    assert json.loads(actual) == json.loads(expected_path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- details


def _sample(name: str) -> ParsedFeed:
    return parse((GOLDEN / name).read_bytes(), f"https://example.com/feeds/{name}")


def test_rss2_fields() -> None:
    feed = _sample("rss2.xml")
    assert feed.title == "Wire Service — World"
    assert feed.link == "https://wire.example/world/"
    assert feed.ttl == timedelta(minutes=15)
    first, second = feed.entries
    assert first.id == "wire-2024-0042"
    assert first.published == datetime(2024, 1, 1, 8, tzinfo=UTC)
    assert first.updated is None
    assert first.authors == ("Jane Doe",)
    assert first.categories == ("World", "Diplomacy")  # feedparser drops repeats
    assert "<script>" in first.content  # parse does not sanitise; normalize does
    assert first.summary.startswith("Negotiators <a href=")  # not confused by media:description
    assert first.image == Image(
        url="https://img.wire.example/talks.jpg",
        caption="Delegates arrive at the Palais des Nations.",
        credit="Reuters/John Smith",
        width=1600,
        height=900,
    )
    assert first.enclosures == (
        Enclosure("https://cdn.wire.example/audio/talks.mp3", "audio/mpeg", 123456),
    )
    assert first.base == "https://example.com/feeds/rss2.xml"
    assert second.id is None
    assert second.authors == ("Sam Editor",)  # "email (Name)" prefers the name
    assert second.link == "https://example.com/world/podcast-week-1"
    assert second.enclosures[0] == Enclosure("https://example.com/audio/week-1.mp3", "audio/mpeg")
    assert second.image is not None and second.image.url.endswith("/img/week-1.png")


def test_rdf_update_period_ttl() -> None:
    assert _sample("rss1.rdf").ttl == timedelta(minutes=30)  # hourly, twice


def test_atom_xml_base_and_xhtml() -> None:
    feed = _sample("atom10.xml")
    first, second = feed.entries
    assert first.link == "https://ngo.example/news/reports/water-2024?utm_campaign=feed"
    assert first.base == "https://ngo.example/news/reports/"
    assert 'href="charts/water.html"' in first.content
    assert "<div" not in first.content
    assert first.image is not None
    assert first.image.url == "https://ngo.example/news/img/thumb.jpg"
    assert first.enclosures == (
        Enclosure("https://ngo.example/files/water-2024.pdf", "application/pdf", 99999),
    )
    assert first.authors == ("Field Team", "Data Unit")
    assert first.summary == "Access to clean water &amp; sanitation, by region."
    assert second.base == "https://ngo.example/press/"
    assert second.link == "https://ngo.example/press/release-7"


def test_json_feed_by_content_type_and_dates() -> None:
    body = (GOLDEN / "jsonfeed11.json").read_bytes()
    feed = parse(body, "https://partner.example/feed.json", "application/feed+json")
    first = feed.entries[0]
    assert first.published == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert first.updated == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert first.title == "Budget &lt;vote&gt; delayed"
    assert feed.entries[1].content.startswith("<p>A short note with &lt;angle brackets&gt;")


# --------------------------------------------------------------------------- not a feed


@pytest.mark.parametrize("body", [b"", b"   \n\t", b"\xef\xbb\xbf"])
def test_empty_body(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^not a feed: empty body$"):
        parse(body, "https://example.com/feed")


def test_html_page() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    with pytest.raises(ParseError, match=r"^not a feed: an HTML page$"):
        parse(page, "https://example.com/", "text/html")


@pytest.mark.parametrize(
    "kind", ["application/rss+xml", "application/atom+xml", "application/feed+json"]
)
def test_html_page_pointing_to_feed(kind: str) -> None:
    page = (
        "<!doctype html><html><head><title>News</title>"
        '<link rel="stylesheet" href="/s.css">'
        f'<link rel="alternate" type="{kind}" title="Feed" href="/news/feed">'
        "</head><body>News</body></html>"
    ).encode()
    with pytest.raises(ParseError) as info:
        parse(page, "https://example.com/news/", "text/html; charset=utf-8")
    assert str(info.value) == (
        "not a feed: an HTML page; it points to the feed at https://example.com/news/feed"
    )


@pytest.mark.parametrize(
    "body",
    [
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"just some text, not xml",
        b"<?xml version='1.0'?><note><to>x</to></note>",
        b'{"hello": "world"}',
        b"{not json",
        b"[1, 2, 3]",
    ],
)
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^not a feed: "):
        parse(body, "https://example.com/feed")


def test_malformed_feed_with_entries_is_accepted() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T &nbsp; broken</title>'
        b"<item><title>One & two</title><link>https://e.example/1</link></item>"
        b"<item><title>Three</title><link>https://e.example/2</link>"
        b"</channel></rss>"
    )
    feed = parse(body, "https://e.example/feed", "application/rss+xml")
    assert [e.link for e in feed.entries] == ["https://e.example/1", "https://e.example/2"]


def test_valid_feed_without_entries() -> None:
    body = b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    feed = parse(body, "https://e.example/feed", "application/rss+xml")
    assert feed.title == "Quiet"
    assert feed.entries == ()


# --------------------------------------------------------------------------- encodings


def _rss(title: str, encoding: str) -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        '<rss version="2.0"><channel><title>Channel</title>'
        f"<item><title>{title}</title><link>https://e.example/a</link></item>"
        "</channel></rss>"
    )


ARABIC = "مرحبا بالعالم — أخبار"


def test_windows_1256_declared_in_prolog() -> None:
    body = _rss(ARABIC.replace("—", "-"), "windows-1256").encode("cp1256")
    feed = parse(body, "https://e.example/feed", "application/rss+xml")
    assert feed.entries[0].title == ARABIC.replace("—", "-")


def test_utf8_with_bom() -> None:
    body = b"\xef\xbb\xbf" + _rss(ARABIC, "utf-8").encode()
    assert parse(body, "https://e.example/feed").entries[0].title == ARABIC


def test_utf16() -> None:
    body = _rss(ARABIC, "utf-16").encode("utf-16")
    assert parse(body, "https://e.example/feed").entries[0].title == ARABIC


def test_json_feed_with_bom() -> None:
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": []}
    body = b"\xef\xbb\xbf" + json.dumps(doc).encode()
    assert parse(body, "https://e.example/feed.json").title == "T"


def test_no_deprecation_warning_for_entries_without_updated() -> None:
    # feedparser warns when `updated` is read and only `published` exists; we never do that.
    # (pytest runs with warnings as errors, so a warning would fail this test.)
    body = (
        b'<rss version="2.0"><channel><title>T</title><item><title>x</title>'
        b"<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    entry = parse(body, "https://e.example/feed").entries[0]
    assert entry.published == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert entry.updated is None


def test_html_entities_with_netscape_doctype() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Caf&eacute;</title><link>http://x.example/</link>'
        b"<item><title>Cr&egrave;me br&ucirc;l&eacute;e</title><link>http://x.example/1</link>"
        b"</item></channel></rss>"
    )
    feed = parse(body, "http://x.example/rss")
    assert feed.title == "Café"
    assert feed.entries[0].title == "Crème brûlée"


_RELATIVE_RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Relative</title><link>/home</link><description>d</description>
<item><title>One</title><link>news/1?utm_source=x</link><guid isPermaLink="false">1</guid>
<description>&lt;a href="../a.html"&gt;a&lt;/a&gt; &lt;img src="i.png"&gt;</description>
<enclosure url="audio/1.mp3" type="audio/mpeg" length="10"/>
<media:content url="/img/1.jpg" medium="image"/></item>
<item><title>Two</title><link>//cdn.example.org/2</link><guid>tag:x.org,2024:2</guid>
<media:thumbnail url="t/2.jpg"/></item>
</channel></rss>"""
_RELATIVE_ATOM = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Relative</title><id>urn:x</id>
<link href="/"/><updated>2024-05-01T00:00:00Z</updated>
<entry><title>One</title><id>urn:1</id><updated>2024-05-01T00:00:00Z</updated>
<link href="posts/1"/><link rel="enclosure" href="f/1.pdf" type="application/pdf"/>
<content type="html">&lt;a href="x.html"&gt;x&lt;/a&gt;</content></entry>
</feed>"""


_REWRITTEN_IDS = b"""<rss version="2.0"><channel><title>T</title><link>/</link>
<description>d</description>
<item><title>A</title><guid>HTTPS://Example.com/a</guid></item>
<item><title>B</title><guid isPermaLink='true'>https://example.com/post?</guid></item>
<item><title>C</title><guid>https://example.com/p#</guid></item>
<item><title>D</title><guid>http://[x</guid></item>
<item><title>E</title><guid><![CDATA[https://example.com/e]]></guid></item>
</channel></rss>"""
_ATOM_IDS = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:x</id>
<updated>2024-05-01T00:00:00Z</updated>
<entry><title>One</title><ID>https://example.com/one;</ID><updated>2024-05-01T00:00:00Z</updated>
</entry></feed>"""
_RELATIVE_IDS = b"""<rss version="2.0"><channel><title>T</title><link>/</link>
<description>d</description>
<item><title>A</title><guid>news/1</guid></item>
<item><title>B</title><guid isPermaLink="true">/news/2</guid><link>/b</link></item>
<item><title>C</title><guid isPermaLink="false">news/3</guid></item>
</channel></rss>"""


@pytest.mark.parametrize(
    "name",
    [p.name for p in SAMPLES if not p.name.endswith(".json")]
    + ["upstream/wire.xml", "upstream/un.atom", "relative.rss", "relative.atom", "ids.rss"]
    + ["rewritten-ids.rss", "ids.atom"],
)
def test_documents_without_xml_base_resolve_against_their_url(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without xml:base, feedparser is not told the document's URL (a quarter of its time
    goes to tracking base URIs); references come out as if it had been: the same as with an
    xml:base naming the URL on the root element."""
    if name.startswith("upstream/"):
        body = (Path(__file__).parent / "fixtures" / name).read_bytes()
    elif name.startswith("relative."):
        body = _RELATIVE_RSS if name.endswith(".rss") else _RELATIVE_ATOM
    elif name == "ids.rss":
        body = _RELATIVE_IDS
    elif name == "rewritten-ids.rss":
        body = _REWRITTEN_IDS
    elif name == "ids.atom":
        body = _ATOM_IDS
    else:
        body = (GOLDEN / name).read_bytes()
    url = "https://example.com/feeds/dir/feed.xml"
    root = re.search(rb"<(rss|feed|rdf:RDF)\b", body)
    assert root is not None
    based = body[: root.end()] + f' xml:base="{url}"'.encode() + body[root.end() :]
    told: list[bool] = []
    real = feedparser.parse

    def spy(*args: Any, **kwargs: Any) -> Any:
        told.append("content-location" in kwargs["response_headers"])
        return real(*args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    assert parse(body, url) == parse(based, url)
    assert told[1], "an xml:base attribute: feedparser is told the URL"
    if name.startswith("relative."):
        assert not told[0], "nothing needs feedparser to know the URL"
    if name in ("ids.rss", "rewritten-ids.rss"):
        assert told[0], "ids that resolving would change: feedparser resolves them"
    if name == "ids.rss":
        assert [e.id for e in parse(body, url).entries] == [
            "https://example.com/feeds/dir/news/1",
            "https://example.com/news/2",
            "news/3",
        ]
    if name.startswith("relative."):
        first = parse(body, url).entries[0]
        assert first.link is not None and first.link.startswith("https://example.com/feeds/dir/")
        assert first.enclosures[0].url.startswith("https://example.com/feeds/dir/")


def test_many_unclosed_id_tags_are_scanned_in_linear_time() -> None:
    """A hostile body of 200 KB of `<id` without `>`: the scan for ids needing a base URI
    stops at every next tag (a quadratic scan would take minutes here)."""
    body = b"<rss><channel>" + b"<id" * 70_000 + b"</channel></rss>"
    with pytest.raises(ParseError):
        parse(body, "https://example.com/feed.xml")


def test_feedparser_is_imported_by_one_module_only() -> None:
    """The adapter is feedparser's only door: the prolog scan, the encoding rules, Media RSS,
    JSON Feed and the diagnosis of non-feeds are standard library only."""
    package = Path(__file__).parent.parent / "feeds"
    importers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"^\s*(?:import|from)\s+feedparser\b", path.read_text(), re.MULTILINE)
    )
    assert importers == ["parse/feedparser_adapter.py"]


ODD_IDS = [
    "http:////x.example/a",
    "HTTP://X.example/B",
    "a,b://c/d",
    "//cdn.example/x",
    "../up",
    "?q=1",
    "#frag",
    "urn:x:y",
    "tag:x.example,2024:1",
    "http://[::1]/v6",
    "http://[x/",
    "mailto:a@b.example",
    "http://x.example/a b",
    "https:x.example/no-slashes",
    "news/3",
]


def _ids_document(kind: str, ids: list[str]) -> bytes:
    if kind == "rss":
        items = "".join(
            f"<item><title>{n}</title><guid>{html.escape(i)}</guid></item>"
            for n, i in enumerate(ids)
        )
        return f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()
    entries = "".join(
        f"<entry><title>{n}</title><id>{html.escape(i)}</id>"
        "<updated>2024-01-01T00:00:00Z</updated></entry>"
        for n, i in enumerate(ids)
    )
    return (
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title><id>urn:f</id>"
        f"<updated>2024-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


@pytest.mark.parametrize("kind", ["rss", "atom"])
@pytest.mark.parametrize("ids", [[i] for i in ODD_IDS] + [ODD_IDS])
def test_ids_resolve_as_feedparser_resolves_them_with_the_url(kind: str, ids: list[str]) -> None:
    """The fast path (feedparser not told the document's URL when no id would resolve
    differently: feeds.urls.join_id predicts that) gives the ids feedparser itself gives when
    it is told the URL (an xml:base on the root makes it resolve every id against it)."""
    url = "https://example.com/feeds/dir/feed.xml"
    body = _ids_document(kind, ids)
    root = re.search(rb"<(rss|feed)\b", body)
    assert root is not None
    based = body[: root.end()] + f' xml:base="{url}"'.encode() + body[root.end() :]
    assert [e.id for e in parse(body, url).entries] == [e.id for e in parse(based, url).entries]
