"""feeds.normalize: ids, dates, URLs, sanitising, hashes."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from feeds import normalize as normalize_module
from feeds.errors import ParseError
from feeds.ids import MAX_ID_BYTES, hashed_id, item_id
from feeds.normalize import (
    DEFAULT_ENCLOSURE_TYPE,
    MAX_INT,
    content_hash,
    entry_id,
    near_duplicate_key,
    normalize_feed,
)
from feeds.parse import parse
from feeds.sanitize import plain_text, sanitize_html
from feeds.text import UNTITLED
from feeds.types import Enclosure, Entry, Image, ParsedEntry, ParsedFeed, Site
from feeds.urls import canonical_url

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FEED_URL = "https://up.example/feed.xml"


def _entry(**kw: object) -> ParsedEntry:
    fields: dict[str, object] = {
        "id": None,
        "title": "Title",
        "link": None,
        "published": None,
        "updated": None,
    }
    fields.update(kw)
    return ParsedEntry(**fields)  # type: ignore[arg-type]


def _one(parsed: ParsedEntry, **kw: object) -> Entry:
    entries = normalize_feed(ParsedFeed("F", None, (parsed,)), "src", FEED_URL, NOW, **kw)  # type: ignore[arg-type]
    assert len(entries) == 1
    return entries[0]


# --------------------------------------------------------------------------- sanitising

BASE = "https://site.example/news/story.html"


def test_sanitizer_drops_dangerous_things() -> None:
    dirty = (
        '<p onclick="steal()" style="position:fixed">Hello <b>world</b></p>'
        "<script>alert(1)</script><style>p{}</style>"
        '<iframe src="https://evil.example/"></iframe><object data="x.swf"></object>'
        '<embed src="x.swf"><form action="/x"><input name="q"></form>'
        '<a href="javascript:alert(1)">js</a><a href=" JaVaScRiPt:alert(1)">js2</a>'
        '<a href="vbscript:msgbox">vb</a>'
        '<img src="data:image/png;base64,AAAA" alt="d">'
        '<img src="x.png" onerror="alert(1)" srcset="data:image/png;base64,AA,BB 1x, y.png 2x">'
        '<a href="java&#10;script:alert(1)">newline</a>'
    )
    clean = sanitize_html(dirty, BASE)
    for bad in (
        "onclick",
        "style",
        "<script",
        "alert(",
        "<iframe",
        "<object",
        "<embed",
        "<form",
        "<input",
        "javascript",
        "vbscript",
        "data:",
        "onerror",
        "evil.example",
    ):
        assert bad not in clean.lower(), bad
    assert "<p>Hello <b>world</b></p>" in clean
    assert 'src="https://site.example/news/x.png"' in clean
    assert 'srcset="https://site.example/news/y.png 2x"' in clean


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "   javascript:alert(1)",
        "\tjavascript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "jav&#9;ascript:alert(1)",
        "java&#x0A;script:alert(1)",
        "java&#x0D;script:alert(1)",
        "&#106;avascript:alert(1)",
        "&#x6A;&#x61;&#x76;&#x61;script:alert(1)",
        "javascript&colon;alert(1)",
        "VBScript:MsgBox(1)",
        " vbscript:x",
        "data:text/html;base64,PHNjcmlwdD4=",
        "DATA:text/html,<script>alert(1)</script>",
        "&#x20;data:text/html,x",
    ],
)
def test_sanitizer_drops_obfuscated_dangerous_urls(href: str) -> None:
    clean = sanitize_html(
        f'<a href="{href}">a</a><img src="{href}"><video poster="{href}"></video>'
        f'<blockquote cite="{href}">q</blockquote>',
        BASE,
    )
    for bad in ("javascript", "vbscript", "data:", "alert", "script"):
        assert bad not in clean.lower(), (href, clean)
    assert "<a " in clean and ">a</a>" in clean  # the link text survives, not the URL


def test_sanitizer_drops_svg_math_and_active_elements() -> None:
    dirty = (
        "<svg onload=alert(1)><script>alert(2)</script>"
        '<a xlink:href="javascript:alert(3)"><text>s</text></a></svg>'
        '<math><mi xlink:href="javascript:alert(4)">m</mi></math>'
        '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=x">'
        '<link rel="stylesheet" href="https://evil.example/x.css">'
        '<button formaction="javascript:alert(5)">b</button><input onfocus="alert(6)" autofocus>'
        "<select><option>o</option></select><textarea>t</textarea>"
        '<frameset><frame src="https://evil.example/"></frameset>'
        '<applet code="x"></applet><template><script>alert(7)</script></template>'
        '<p onmouseover="alert(8)" ONCLICK="alert(9)" style="x:expression(alert(10))">kept</p>'
    )
    clean = sanitize_html(dirty, BASE)
    for bad in (
        "<svg", "<math", "<script", "<base", "<meta", "<link", "<button", "<input", "<select",
        "<textarea", "<frame", "<applet", "<template", "evil.example", "alert", "javascript",
        "onmouseover", "onclick", "style", "expression",
    ):  # fmt: skip
        assert bad not in clean.lower(), bad
    assert "<p>kept</p>" in clean


def test_sanitizer_strips_tracking_parameters_from_links_only() -> None:
    clean = sanitize_html(
        '<a href="https://e.example/a?utm_source=x&amp;utm_Campaign=y&amp;mc_eid=1&amp;mc_cid=2'
        '&amp;gclid=3&amp;fbclid=4&amp;id=5#utm_medium=z">t</a>'
        '<a href="/b?fbclid=1">b</a>',
        BASE,
    )
    assert 'href="https://e.example/a?id=5"' in clean
    assert 'href="https://site.example/b"' in clean
    for param in ("utm_", "mc_eid", "mc_cid", "gclid", "fbclid"):
        assert param not in clean.lower()


def test_entry_html_resolves_against_the_entry_base() -> None:
    entry = _one(
        _entry(
            id="a",
            content='<a href="more.html">m</a><img src="../i.png" srcset="a.png 1x">',
            summary='<a href="?p=2">p</a>',
            base="https://e.example/2024/story/",
        )
    )
    assert 'href="https://e.example/2024/story/more.html"' in entry.content
    assert 'src="https://e.example/2024/i.png"' in entry.content
    assert 'srcset="https://e.example/2024/story/a.png 1x"' in entry.content
    assert 'href="https://e.example/2024/story/?p=2"' in entry.summary
    without_base = _one(_entry(id="b", content='<a href="x">x</a>'))
    assert 'href="https://up.example/x"' in without_base.content  # the feed URL


def test_sanitizer_resolves_relative_urls() -> None:
    dirty = (
        '<a href="/about?utm_source=feed&amp;x=1">about</a>'
        '<a href="../up#top">up</a>'
        '<a href="mailto:desk@site.example">mail</a>'
        '<img src="img/a.jpg" srcset="img/a-1x.jpg 1x, //cdn.example/a-2x.jpg 2x">'
        '<picture><source srcset="img/b.webp" type="image/webp"><img src="img/b.jpg"></picture>'
        '<video src="v.mp4" poster="v.jpg" controls></video>'
        '<blockquote cite="quotes/1">q</blockquote>'
    )
    clean = sanitize_html(dirty, BASE)
    assert 'href="https://site.example/about?x=1"' in clean
    assert 'href="https://site.example/up#top"' in clean
    assert 'href="mailto:desk@site.example"' in clean
    assert 'src="https://site.example/news/img/a.jpg"' in clean
    assert (
        'srcset="https://site.example/news/img/a-1x.jpg 1x, https://cdn.example/a-2x.jpg 2x"'
        in clean
    )
    assert 'srcset="https://site.example/news/img/b.webp"' in clean
    assert 'poster="https://site.example/news/v.jpg"' in clean
    assert 'src="https://site.example/news/v.mp4"' in clean
    assert 'cite="https://site.example/news/quotes/1"' in clean
    assert 'rel="noopener noreferrer"' in clean


def test_sanitizer_keeps_article_markup() -> None:
    html = (
        '<figure><img src="https://i.example/a.jpg" alt="A" width="10" height="5">'
        "<figcaption>Cap</figcaption></figure>"
        '<h2 lang="en" dir="ltr">H</h2><ul><li><em>e</em></li></ul>'
        "<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>"
        '<pre><code>x</code></pre><time datetime="2024-01-01">Jan</time><hr><br>'
    )
    assert sanitize_html(html, BASE) == html


def test_sanitizer_empty() -> None:
    assert sanitize_html("", BASE) == ""
    assert sanitize_html("   ", BASE) == ""


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://News.Example.COM:443/a/b?id=1&utm_source=x&UTM_Medium=y&fbclid=z#",
            "https://news.example.com/a/b?id=1",
        ),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        (
            "https://e.example/p?gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6&yclid=7"
            "&_ga=8&ref_src=9&keep=Yes&Q=a%20b",
            "https://e.example/p?keep=Yes&Q=a%20b",
        ),
        ("https://e.example/p#xtor=RSS-3", "https://e.example/p"),
        ("https://e.example/p#section-2", "https://e.example/p#section-2"),
        ("https://e.example/Case/Path?B=2&a=1", "https://e.example/Case/Path?B=2&a=1"),
        ("  https://e.example/x  ", "https://e.example/x"),
        ("", ""),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_resolves_against_base() -> None:
    assert canonical_url("../b?utm_term=x", "https://E.example/a/c/") == "https://e.example/a/b"


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Talks in <em>Geneva</em> &amp; Vienna", "Talks in Geneva & Vienna"),
        ("A &lt;b&gt; literal", "A <b> literal"),
        ("<p>One</p><p>Two</p>", "One Two"),
        ("  lots \n of   space ", "lots of space"),
        ("x<script>alert(1)</script>y", "xy"),
        ("caf&eacute; &#8212; &#x263A;", "café — ☺"),
        ("", ""),
    ],
)
def test_plain_text(value: str, expected: str) -> None:
    assert plain_text(value) == expected


def test_title_markup_becomes_plain_text() -> None:
    entry = _one(_entry(title="<b>Big</b> news &amp; more", link="https://e.example/1"))
    assert entry.title == "Big news & more"


def test_empty_title_from_summary_else_untitled() -> None:
    summary = "<p>" + "word " * 40 + "</p>"
    entry = _one(_entry(title="", summary=summary, link="https://e.example/1"))
    assert entry.title.endswith("…")
    assert len(entry.title) <= 80
    assert entry.title.startswith("word word")
    assert _one(_entry(title=" ", link="https://e.example/2")).title == UNTITLED


# --------------------------------------------------------------------------- ids


def test_entry_id_prefers_guid_then_link_then_hash() -> None:
    assert entry_id(_entry(id=" g-1 ", link="https://e.example/a")) == "g-1"
    assert (
        entry_id(_entry(link="/a?utm_source=rss", base="https://E.example/"))
        == "https://e.example/a"
    )
    hashed = entry_id(_entry(title="T", summary="S"))
    assert hashed.startswith("sha256:")
    assert hashed == entry_id(_entry(title="T", summary="S"))
    assert hashed != entry_id(_entry(title="T", summary="S2"))


def test_entries_without_ids_are_stable_across_parses() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>Linked</title><link>/a?utm_source=x</link></item>"
        b"<item><title>Bare</title><description>No link, no guid</description></item>"
        b"</channel></rss>"
    )
    first = normalize_feed(parse(body, FEED_URL), "src", FEED_URL, NOW)
    second = normalize_feed(parse(body, FEED_URL), "src", FEED_URL, NOW + timedelta(hours=1))
    assert [e.id for e in first] == [e.id for e in second]
    assert first[0].id == "https://up.example/a"
    assert first[1].id.startswith("sha256:")


def test_repeated_ids_for_different_stories_stay_distinct() -> None:
    feed = ParsedFeed(
        "F",
        None,
        (
            _entry(id="dup", title="First"),
            _entry(id="other", title="Other"),
            _entry(id="dup", title="Second"),
            _entry(id="other", title="Other", summary="a later copy"),
        ),
    )
    entries = normalize_feed(feed, "src", FEED_URL, NOW)
    assert [(e.id, e.title) for e in entries] == [
        (hashed_id("dup", "", "First"), "First"),
        ("other", "Other"),  # same id, link and title: one entry, the first
        (hashed_id("dup", "", "Second"), "Second"),
    ]
    assert entries[1].summary == ""


# --------------------------------------------------------------------------- dates


def test_dates_utc_without_microseconds() -> None:
    tz = datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC).astimezone(
        __import__("datetime").timezone(timedelta(hours=3))
    )
    entry = _one(_entry(id="a", published=tz, updated=tz + timedelta(hours=1)))
    assert entry.published == datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert entry.updated == datetime(2024, 1, 1, 11, tzinfo=UTC)
    assert entry.published.tzinfo is UTC


def test_missing_dates_use_first_seen_else_now() -> None:
    seen = datetime(2024, 5, 30, 8, 0, 0, 999, tzinfo=UTC)
    entry = _one(_entry(id="a"), first_seen={"a": seen})
    assert entry.published == entry.updated == seen.replace(microsecond=0)
    entry = _one(_entry(id="b"), first_seen={"a": seen})
    assert entry.published == entry.updated == NOW


def test_only_updated_becomes_published() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    entry = _one(_entry(id="a", updated=when))
    assert entry.published == entry.updated == when


def test_future_dates_are_clamped() -> None:
    future = NOW + timedelta(days=3)
    seen = NOW - timedelta(hours=2)
    entry = _one(_entry(id="a", published=future, updated=future), first_seen={"a": seen})
    assert entry.published == entry.updated == seen
    entry = _one(_entry(id="b", published=future))
    assert entry.published == entry.updated == NOW
    past = NOW - timedelta(days=1)
    entry = _one(_entry(id="c", published=past, updated=future))
    assert entry.published == past
    assert entry.updated == NOW


def test_updated_never_before_published() -> None:
    published = datetime(2024, 5, 2, tzinfo=UTC)
    entry = _one(_entry(id="a", published=published, updated=published - timedelta(days=1)))
    assert entry.updated == published


# --------------------------------------------------------------------------- hashes and fields


def test_date_only_change_keeps_content_hash() -> None:
    base = _entry(id="a", title="T", link="https://e.example/a", summary="<p>S</p>")
    one = _one(dataclasses.replace(base, published=datetime(2024, 1, 1, tzinfo=UTC)))
    two = _one(
        dataclasses.replace(
            base,
            published=datetime(2024, 1, 2, tzinfo=UTC),
            updated=datetime(2024, 1, 3, tzinfo=UTC),
        )
    )
    assert one.content_hash == two.content_hash
    three = _one(dataclasses.replace(base, summary="<p>S, corrected</p>"))
    assert three.content_hash != one.content_hash


def test_content_hash_covers_what_readers_see() -> None:
    kwargs: dict[str, object] = {"title": "T", "link": "https://e.example/a"}
    plain = content_hash(**kwargs)  # type: ignore[arg-type]
    assert len(plain) == 64
    assert content_hash(**kwargs, authors=("A",)) != plain  # type: ignore[arg-type]
    assert content_hash(**kwargs, tags=("t",)) != plain  # type: ignore[arg-type]
    assert content_hash(**kwargs, image=Image("https://i.example/a.jpg")) != plain  # type: ignore[arg-type]
    assert (
        content_hash(**kwargs, enclosures=(Enclosure("https://e.example/a.mp3"),)) != plain  # type: ignore[arg-type]
    )


def test_tracking_parameters_stripped_from_entry_urls() -> None:
    entry = _one(
        _entry(
            id="a",
            link="https://e.example/a?utm_source=rss&id=7&fbclid=x",
            summary='<a href="https://e.example/b?gclid=1&amp;p=2">b</a>',
            image=Image("/img/a.jpg?utm_medium=feed", caption="<b>Cap</b>", credit="AP &amp; AFP"),
            enclosures=(
                Enclosure("/a.mp3", "audio/mpeg", 10),
                Enclosure("javascript:alert(1)"),
                Enclosure("/a.mp3", "audio/mpeg", 10),
            ),
            base="https://e.example/x/",
        )
    )
    assert entry.link == "https://e.example/a?id=7"
    assert 'href="https://e.example/b?p=2"' in entry.summary
    assert entry.image == Image("https://e.example/img/a.jpg", caption="Cap", credit="AP & AFP")
    assert entry.enclosures == (Enclosure("https://e.example/a.mp3", "audio/mpeg", 10),)


def test_non_web_links_are_dropped() -> None:
    entry = _one(_entry(id="a", link="javascript:alert(1)", image=Image("data:image/png,xx")))
    assert entry.link == ""
    assert entry.image is None


def test_tags_authors_summary_content() -> None:
    entry = _one(
        _entry(
            id="a",
            categories=(" World ", "Politics", "World", ""),
            authors=("Jane", "Jane", " <b>Joe</b> "),
            summary="",
            content="<p>Body</p>",
        )
    )
    assert entry.tags == ("World", "Politics")
    assert entry.authors == ("Jane", "Joe")
    assert entry.summary == ""
    assert entry.content == "<p>Body</p>"
    only_summary = _one(_entry(id="b", summary="<p>Dek</p>"))
    assert (only_summary.summary, only_summary.content) == ("<p>Dek</p>", "")


# --------------------------------------------------------------------------- near duplicates

STORY = "<p>LONDON (Reuters) - Oil prices rose on Monday after OPEC+ agreed to extend cuts.</p>"


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Oil prices rise as OPEC+ extends cuts", STORY),
        ("  Oil   prices rise as OPEC+ extends cuts ", STORY.replace(" ", "  ")),
        ("OIL PRICES RISE AS OPEC+ EXTENDS CUTS", STORY.upper()),
        ("Oil prices rise as OPEC+ extends cuts - Reuters", STORY),
        ("Oil prices rise as OPEC+ extends cuts | Reuters.com", STORY),
        ("Oil prices rise as OPEC+ extends cuts — Thomson Reuters", STORY),
        ("<b>Oil prices</b> rise as OPEC+ extends cuts", STORY.replace("<p>", "<div>")),
        ("Oil prices rise as OPEC＋ extends cuts", STORY.replace("(Reuters)", "（Reuters）")),
        ("Oil prices rise, as OPEC+ extends cuts!", STORY.replace(" - ", " — ")),
        ("Oil prices rise as OPEC+ extends cuts", STORY.replace("<p>", "").replace("</p>", "")),
    ],
)
def test_near_duplicate_key_ignores_trivial_differences(title: str, text: str) -> None:
    assert near_duplicate_key(title, text) == near_duplicate_key(
        "Oil prices rise as OPEC+ extends cuts", STORY
    )


def test_near_duplicate_key_reads_only_the_start_of_the_text() -> None:
    lead = "<p>" + "Word " * 50 + "</p>"
    full = near_duplicate_key("T", lead + "<p>The rest of the full article.</p>")
    excerpt = near_duplicate_key("T", lead + "<p>Read more…</p>")
    assert full == excerpt


def test_near_duplicate_key_folds_quotes_and_compatibility_forms() -> None:
    curly = near_duplicate_key("“Don’t panic,” minister says", "It’s ﬁne — really…")
    straight = near_duplicate_key('"Don\'t panic," minister says', "It's fine - really...")
    assert curly == straight
    assert curly == "dont panic minister says|its fine really"


def test_near_duplicate_key_keeps_other_scripts() -> None:
    vowelled = near_duplicate_key("مَرْحَبًا بِالعالم", "<p>نصّ الخبر</p>")
    plain = near_duplicate_key("مرحبا بالعالم", "نص الخبر")
    assert vowelled == plain
    assert plain.startswith("مرحبا بالعالم|")


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Oil prices fall as OPEC+ extends cuts", STORY),
        ("Oil prices rise as OPEC+ extends cuts", STORY.replace("Monday", "Tuesday")),
        ("Gold prices rise as OPEC+ extends cuts", STORY),
        ("Oil prices rise as OPEC+ extends cuts", ""),
        ("Oil prices rise - as OPEC+ extends cuts, analysts say in a long note", STORY),
    ],
)
def test_near_duplicate_key_separates_different_stories(title: str, text: str) -> None:
    assert near_duplicate_key(title, text) != near_duplicate_key(
        "Oil prices rise as OPEC+ extends cuts", STORY
    )


def test_near_duplicate_key_is_bounded() -> None:
    key = near_duplicate_key("word " * 100, "text " * 200)
    title, text = key.split("|")
    assert len(title) <= 120
    assert len(text) <= 200
    assert near_duplicate_key("", "") == "|"
    assert near_duplicate_key(" - Reuters", "") == "reuters|"  # nothing but a suffix: kept


# --------------------------------------------------------------------------- storable values

XML_INVALID = "\x00\x01\x08\x0b\x0c\x1f\ud800\udfff\ufffe\uffff"


def _hashed(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@pytest.mark.parametrize(
    "upstream_id",
    [
        "http://[x/",  # urlsplit: Invalid IPv6 URL
        "http://example.com:99999/a",  # port out of range
        "https://example.com:http/a",  # port not a number
        "http://ex\uff03ample.com/",  # urlsplit: netloc that NFKC-normalizes to "#"
        "guid\x00with-nul",
        "guid\twith-tab",
        "guid\x7fdel\x85c1",
        "lone\ud800surrogate",
        "x" * (MAX_ID_BYTES + 1),
        "م" * 251,  # 502 bytes of UTF-8
    ],
)
def test_unusable_upstream_ids_become_hashes(upstream_id: str) -> None:
    entry = _one(_entry(id=upstream_id, link="https://e.example/a"))
    assert entry.id == _hashed(upstream_id)
    urlsplit(entry.id)  # what merge does with every id
    site = Site("S", "https://news.example/", "https://feeds.example", "", "en", Path("."))
    assert (
        item_id(site, entry.source_id, entry.id)
        == "tag:news.example,2026:src/sha256%3A" + entry.id[7:]
    )


@pytest.mark.parametrize(
    "upstream_id",
    [
        "g1",
        "wire-2024-0042",
        "tag:wire.example,2024:42",
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "https://e.example/a?id=7#top",
        "http://[2001:db8::1]:8080/a",
        "mailto:desk@wire.example",
        "an id with spaces",
        "مرحبا بالعالم",
        "x" * MAX_ID_BYTES,
        "12345",
    ],
)
def test_sane_upstream_ids_are_kept(upstream_id: str) -> None:
    assert _one(_entry(id=upstream_id)).id == upstream_id
    assert _one(_entry(id=f"  {upstream_id}\n")).id == upstream_id


def test_unusable_link_used_as_id_becomes_a_hash() -> None:
    link = "https://e.example/" + "a" * MAX_ID_BYTES
    entry = _one(_entry(link=link))
    assert entry.link == link
    assert entry.id == _hashed(link)
    assert _one(_entry(link="https://e.example/a")).id == "https://e.example/a"


def test_hash_fallback_survives_lone_surrogates() -> None:
    parsed = _entry(title="\ud800", summary="S")
    assert entry_id(parsed) == entry_id(parsed)
    assert entry_id(parsed).startswith("sha256:")


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_entry_string_is_valid_xml_text_without_nul() -> None:
    bad = XML_INVALID
    entry = _one(
        _entry(
            id="a",
            title=f"Ti{bad}tle &#1;&#12;&#xfffe;",
            link=f"https://e.example/a{bad}",
            authors=(f"Jane{bad} Doe",),
            categories=(f"World{bad}",),
            summary=f"<p>Sum{bad}mary &#1;&#x0c;</p>",
            content=f"<p>Con{bad}tent &#8;</p><p title='a{bad}'>x</p>",
            image=Image(
                f"https://e.example/i{bad}.jpg", caption=f"Cap{bad}tion", credit=f"Cre{bad}dit"
            ),
            enclosures=(Enclosure(f"https://e.example/a{bad}.mp3", "audio/mpeg", 1),),
        )
    )
    strings = _strings(dataclasses.asdict(entry))
    for s in strings:
        assert not any(c in s for c in bad), repr(s)
        s.encode("utf-8")  # no lone surrogates
    assert entry.title == "Title"
    assert entry.link == "https://e.example/a"
    assert entry.authors == ("Jane Doe",)
    assert entry.tags == ("World",)
    assert entry.summary == "<p>Summary </p>"
    assert entry.content.startswith("<p>Content </p>")
    assert entry.image == Image("https://e.example/i.jpg", caption="Caption", credit="Credit")
    assert entry.enclosures == (Enclosure("https://e.example/a.mp3", "audio/mpeg", 1),)


def test_plain_text_and_sanitize_html_accept_lone_surrogates() -> None:
    assert plain_text("a\ud800b <b>c</b>") == "ab c"
    assert sanitize_html("<p>a\udfffb</p>", BASE) == "<p>ab</p>"


@pytest.mark.parametrize(
    ("declared", "enclosure_type", "image_type"),
    [
        ("audio/mpeg", "audio/mpeg", ""),
        ("image/jpeg", "image/jpeg", "image/jpeg"),
        ("image/JPEG", "image/JPEG", "image/JPEG"),
        ("audio/mpeg; codecs=mp3", "audio/mpeg", ""),
        ('image/svg+xml ; charset="utf-8"', "image/svg+xml", "image/svg+xml"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel", ""),
        ("", "", ""),
        ("   ", "", ""),
        ("mp3", DEFAULT_ENCLOSURE_TYPE, ""),
        ("audio/", DEFAULT_ENCLOSURE_TYPE, ""),
        ("audio/mpeg/x", DEFAULT_ENCLOSURE_TYPE, ""),
        ("image/png\x00", DEFAULT_ENCLOSURE_TYPE, ""),
        ("<script>", DEFAULT_ENCLOSURE_TYPE, ""),
        ("image /png", DEFAULT_ENCLOSURE_TYPE, ""),
    ],
)
def test_mime_types_are_type_subtype_tokens(
    declared: str, enclosure_type: str, image_type: str
) -> None:
    entry = _one(
        _entry(
            id="a",
            image=Image("https://e.example/i.jpg", type=declared),
            enclosures=(Enclosure("https://e.example/a.bin", declared, 1),),
        )
    )
    assert entry.enclosures[0].type == enclosure_type
    assert entry.image is not None and entry.image.type == image_type


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:99999/",
        "http://example.com:-1/",
        "https://example.com:port/a",
        "http://[x/",
        "http://[::1/a",
        "http://ex\uff03ample.com/",
        "https://:80/",
        "https://user@/",
    ],
)
def test_urls_that_do_not_split_or_have_a_bad_port_are_dropped(url: str) -> None:
    entry = _one(
        _entry(
            id="a",
            link=url,
            image=Image(url),
            enclosures=(Enclosure(url, "audio/mpeg", 1), Enclosure("https://e.example/ok.mp3")),
        )
    )
    assert entry.link == ""
    assert entry.image is None
    assert [e.url for e in entry.enclosures] == ["https://e.example/ok.mp3"]
    assert _one(_entry(link=url)).id.startswith("sha256:")  # the link is not used as the id


def test_valid_ports_are_kept() -> None:
    assert _one(_entry(id="a", link="https://e.example:8443/a")).link == "https://e.example:8443/a"
    assert _one(_entry(id="a", link="http://e.example:80/a")).link == "http://e.example/a"


@pytest.mark.parametrize(
    ("value", "length", "size"),
    [
        (0, 0, 0),
        (1200, 1200, 1200),
        (MAX_INT, MAX_INT, MAX_INT),
        (MAX_INT + 1, 0, None),
        (2**200, 0, None),
        (-1, 0, None),
    ],
)
def test_integers_fit_a_bigint(value: int, length: int, size: int | None) -> None:
    entry = _one(
        _entry(
            id="a",
            image=Image("https://e.example/i.jpg", width=value, height=value),
            enclosures=(Enclosure("https://e.example/a.mp3", "audio/mpeg", value),),
        )
    )
    assert entry.enclosures[0].length == length
    assert entry.image is not None
    assert (entry.image.width, entry.image.height) == (size, size)


def test_normalize_feed_raises_only_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> Entry:
        raise RuntimeError("boom")

    monkeypatch.setattr(normalize_module, "normalize_entry", broken)
    feed = ParsedFeed("F", None, (_entry(id="a"), _entry(id="b")))
    with pytest.raises(
        ParseError, match=r"^cannot normalize entry 1 of 2 \(RuntimeError: boom\)$"
    ) as info:
        normalize_feed(feed, "src", FEED_URL, NOW)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_offset_dates_near_the_limits_do_not_overflow() -> None:
    early = datetime(1, 1, 1, 10, tzinfo=timezone(timedelta(hours=5)))
    late = datetime(9999, 12, 31, 20, tzinfo=timezone(timedelta(hours=-5)))
    for value in (early, late):
        entry = _one(_entry(id="a", published=value, updated=value))
        assert entry.published <= NOW
