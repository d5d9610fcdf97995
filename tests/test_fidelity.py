"""Every story of a real-world feed, read right (issue 9): identity within one document, dates
of undated entries, text kept by sanitising, old RDF feeds, WordPress JSON Feed titles and
mislabelled charsets. Fixtures live in tests/fixtures/fidelity/; dates have tests/test_dates.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.config import load_config
from feeds.errors import ParseError
from feeds.ids import hashed_id
from feeds.normalize import normalize_feed
from feeds.parse import parse
from feeds.sanitize import plain_text, sanitize_html
from feeds.store import Store
from feeds.types import Entry, ParsedEntry, ParsedFeed
from tests.sites import ALL_SOURCES_FEED, source_toml, write_site
from tests.upstream import Upstream

FIDELITY = Path(__file__).parent / "fixtures" / "fidelity"
URL = "https://src.example/feed"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _fixture(name: str) -> bytes:
    return (FIDELITY / name).read_bytes()


def _normalized(
    body: bytes,
    now: datetime = NOW,
    first_seen: dict[str, datetime] | None = None,
    content_type: str | None = None,
) -> list[Entry]:
    return normalize_feed(parse(body, URL, content_type), "src", URL, now, first_seen)


def _stored(
    entries: list[Entry], when: datetime, before: dict[str, datetime]
) -> dict[str, datetime]:
    """first_seen as the store keeps it: one time for everything a fetch inserts."""
    return before | {e.id: when for e in entries if e.id not in before}


# --------------------------------------------------------------------------- identity


def test_distinct_guids_sharing_a_link_stay_distinct() -> None:
    entries = _normalized(_fixture("podcast.xml"))
    assert [e.id for e in entries] == [f"levant-talks-00{n}" for n in range(5, 0, -1)]
    assert {e.link for e in entries} == {"https://show.example/"}
    assert [e.enclosures[0].url[-7:] for e in entries] == [f"00{n}.mp3" for n in range(5, 0, -1)]


def test_entries_without_ids_sharing_a_link_get_ids_from_link_and_title() -> None:
    entries = _normalized(_fixture("digest.xml"))
    shared = "https://station.example/news"  # the tracking parameter of one copy is dropped
    assert [(e.id, e.title) for e in entries] == [
        (hashed_id(shared, "Roads reopen in the north"), "Roads reopen in the north"),
        (hashed_id(shared, "Council approves the budget"), "Council approves the budget"),
        (hashed_id(shared, "Storm warning for the coast"), "Storm warning for the coast"),
        # a link of its own is the id, as before
        ("https://station.example/stories/own-page", "A story with a page of its own"),
    ]
    assert entries[0].summary == "Roads reopen."  # the exact repeat is one entry: the first
    again = _normalized(_fixture("digest.xml"), NOW + timedelta(days=1))
    assert [e.id for e in again] == [e.id for e in entries]


def test_an_entry_without_id_sharing_the_link_of_one_with_an_id() -> None:
    link = "https://e.example/home"
    feed = ParsedFeed(
        "F",
        None,
        (
            ParsedEntry(id="ep-2", title="Two", link=link, published=None, updated=None),
            ParsedEntry(id=None, title="One", link=link, published=None, updated=None),
        ),
    )
    entries = normalize_feed(feed, "src", URL, NOW)
    assert [e.id for e in entries] == ["ep-2", hashed_id(link, "One")]


def test_a_guid_repeated_for_different_stories_gives_each_a_stable_id() -> None:
    entries = _normalized(_fixture("repeated-guid.xml"))
    expected = [
        (hashed_id("item", f"https://gen.example/{n}", f"{word} story"), f"{word} story")
        for n, word in ((4, "Fourth"), (3, "Third"), (2, "Second"), (1, "First"))
    ]
    assert [(e.id, e.title) for e in entries] == expected
    again = _normalized(_fixture("repeated-guid.xml"), NOW + timedelta(hours=1))
    assert [e.id for e in again] == [e.id for e in entries]


def _generator(*numbers: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://gen.example/{n}</link>"
        f"<guid isPermaLink='false'>item</guid></item>"
        for n in numbers
    )
    return f"<rss version='2.0'><channel><title>G</title>{items}</channel></rss>".encode()


def test_a_guid_first_alone_then_repeated() -> None:
    """The documented decision: while alone, the story is stored under the bare guid; once
    repeated, every story under it (that one included) gets its hashed id from then on."""
    (alone,) = _normalized(_generator(1))
    assert alone.id == "item"
    later = _normalized(_generator(2, 1), NOW + timedelta(hours=1), {"item": NOW})
    assert [e.id for e in later] == [
        hashed_id("item", "https://gen.example/2", "Story 2"),
        hashed_id("item", "https://gen.example/1", "Story 1"),
    ]
    third = _normalized(_generator(3, 2, 1), NOW + timedelta(hours=2))
    assert [e.id for e in third][1:] == [e.id for e in later]


# --------------------------------------------------------------------------- undated entries


def test_first_fetch_dates_undated_entries_below_the_oldest_dated_one() -> None:
    entries = _normalized(_fixture("undated.xml"))
    oldest = datetime(2024, 1, 8, 10, tzinfo=UTC)
    assert [(e.id, e.published) for e in entries] == [
        ("u1", oldest - SECOND),
        ("d1", datetime(2024, 1, 10, 10, tzinfo=UTC)),
        ("u2", oldest - 2 * SECOND),  # its date cannot be read: undated
        ("d2", oldest),
        ("u3", oldest - 3 * SECOND),
    ]
    assert all(e.updated == e.published for e in entries)


def test_undated_entries_are_stable_across_fetches_and_new_ones_dated_when_seen() -> None:
    body = _fixture("undated.xml")
    first = _normalized(body)
    seen = _stored(first, NOW, {})
    later = NOW + timedelta(hours=2)
    assert _normalized(body, later, seen) == first  # the same document: the same times
    newer = body.replace(
        b"<item>",
        b"<item><guid isPermaLink='false'>n1</guid><title>New one</title></item>"
        b"<item><guid isPermaLink='false'>n2</guid><title>New two</title></item><item>",
        1,
    )
    second = _normalized(newer, later, seen)
    assert [(e.id, e.published) for e in second[:2]] == [("n1", later), ("n2", later - SECOND)]
    assert second[2:] == first
    seen = _stored(second, later, seen)
    third = _normalized(newer, later + timedelta(hours=1), seen)
    assert third == second


def test_undated_entries_of_a_feed_without_dates_take_distinct_fetch_times() -> None:
    entries = _normalized(_fixture("rss090.rdf"))
    assert [e.published for e in entries] == [NOW, NOW - SECOND]


def test_undated_entries_never_share_a_time_with_dated_ones() -> None:
    body = (
        b"<rss version='2.0'><channel><title>T</title>"
        b"<item><guid>a</guid><title>A</title></item>"
        b"<item><guid>b</guid><title>B</title><pubDate>Sat, 01 Jun 2024 12:00:00 GMT</pubDate>"
        b"</item><item><guid>c</guid><title>C</title></item></channel></rss>"
    )
    second_fetch = _normalized(body, NOW, {"x": NOW - timedelta(days=1)})
    assert [e.published for e in second_fetch] == [NOW - SECOND, NOW, NOW - 2 * SECOND]


@pytest.fixture
def pipeline_env(
    tmp_path: Path, upstream: Upstream
) -> Iterator[tuple[object, Store, list[datetime]]]:
    from feeds.pipeline import Pipeline

    config = write_site(
        tmp_path,
        upstream,
        sources=source_toml("mixed", upstream.url("/mixed.xml")),
        feeds=ALL_SOURCES_FEED,
    )
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    clock = [NOW]
    pipeline = Pipeline(load_config(config), store, clock=lambda: clock[0])
    yield pipeline, store, clock
    pipeline.close()
    store.close()


def test_undated_entries_through_the_store(
    upstream: Upstream, pipeline_env: tuple[object, Store, list[datetime]]
) -> None:
    """With the store's own first_seen: the first fetch below the dated entries, a later new
    entry at its fetch time, and nothing moves in between."""
    pipeline, store, clock = pipeline_env
    body = _fixture("undated.xml")
    upstream.set("/mixed.xml", body, headers={"Content-Type": "application/rss+xml"})
    pipeline.refresh_all()  # type: ignore[attr-defined]
    first = {e.id: e.published for e in store.recent_entries(["mixed"], 50)}
    oldest = datetime(2024, 1, 8, 10, tzinfo=UTC)
    assert first["u1"] == oldest - SECOND and first["u3"] == oldest - 3 * SECOND
    clock[0] = NOW + timedelta(hours=1)
    newer = body.replace(
        b"<item>", b"<item><guid isPermaLink='false'>n1</guid><title>New</title></item><item>", 1
    )
    upstream.set("/mixed.xml", newer, headers={"Content-Type": "application/rss+xml"})
    pipeline.refresh_all()  # type: ignore[attr-defined]
    second = {e.id: e.published for e in store.recent_entries(["mixed"], 50)}
    assert second == first | {"n1": clock[0]}
    assert len(set(second.values())) == len(second)


# --------------------------------------------------------------------------- sanitising


def test_mathml_svg_and_unknown_elements_keep_their_text() -> None:
    (entry,) = _normalized(_fixture("mathml.xml"))
    assert entry.content == (
        "<p>When you request 2^{n} &lt; k bytes, the server answers n+1 times.</p>\n"
        "<p>Without annotations: x=3 holds.</p>\n"
        "<p>A chart: Rainfall mm.</p>\n"
        "<p>Gone: kept text</p>"
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            "<form action='/x'>Sign <b>up</b><input name='q'><button>Go</button></form>",
            "Sign <b>up</b>Go",
        ),
        ("a<iframe src='https://e.example/'>no frames</iframe>b", "ab"),
        ("a<object data='x.swf'><p>fallback</p></object>b", "a<p>fallback</p>b"),  # shown text
        ("a<embed src='x.swf'>b", "ab"),
        ("a<template><p>inert</p></template>b", "ab"),
        ("a<noembed>fallback</noembed>b", "ab"),
        ("a<script>code()</script><style>p{}</style>b", "ab"),
        ("a<custom-element>kept</custom-element><font>too</font>b", "akepttoob"),
        ("<math><mi>a</mi></math> <MATH><MI>b</MI></MATH>", "a b"),
        ("x<m:math xmlns:m='http://www.w3.org/1998/Math/MathML'><m:mi>y</m:mi></m:math>", "xy"),
        ("x<math><mi>unclosed", "xunclosed"),
        (
            "<math><annotation-xml encoding='MathML-Content'><ci>c</ci></annotation-xml>"
            "<mi>v</mi></math>",
            "v",
        ),
    ],
)
def test_what_sanitising_removes_keeps_its_text(html: str, expected: str) -> None:
    assert sanitize_html(html, "https://e.example/") == expected


def test_plain_text_reads_mathml_and_drops_fallback_markup() -> None:
    assert plain_text("Area <math alttext='\\pi r^2'><mi>π</mi></math> m²") == "Area \\pi r^2 m²"
    assert plain_text("a <iframe>no frames</iframe> b") == "a b"
    assert plain_text("1 <svg><text>chart</text></svg> 2") == "1 chart 2"


# --------------------------------------------------------------------------- old RDF feeds


@pytest.mark.parametrize(
    ("name", "titles"),
    [
        ("rss090.rdf", ["Status updates", "Bug tracker reorganised"]),
        ("bare-rdf.xml", ["First item", "Second item"]),
        ("bare-rdf-unprefixed.xml", ["Only item"]),
    ],
)
def test_rss_090_and_bare_rdf_are_feeds(name: str, titles: list[str]) -> None:
    feed = parse(_fixture(name), URL)
    assert [e.title for e in feed.entries] == titles
    assert all(e.link for e in feed.entries)


def test_an_html_page_feedparser_reads_an_entry_from_is_still_not_a_feed() -> None:
    page = (
        b"<html><head><title>Home</title></head><body><rdf><channel><title>c</title></channel>"
        b"<item><title>x</title></item></rdf></body></html>"
    )
    with pytest.raises(ParseError, match=r"^not a feed: an HTML page$"):
        parse(page, URL)


# --------------------------------------------------------------------------- JSON Feed titles


def test_wordpress_json_feed_titles_are_unescaped_once() -> None:
    entries = _normalized(_fixture("wordpress.json"))
    assert [e.title for e in entries] == [
        "Add Task & Sub Tasks",
        "‘Jokes’ not bold",  # decoded once, then read as HTML like every feed's titles
        "An odd date",
    ]
    assert entries[0].content == "<p>Tasks &amp; sub tasks.</p>"


# --------------------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("name", "content_type", "title"),
    [
        ("gb2312.xml", "application/rss+xml; charset=iso-8859-1", "经济增长放缓"),
        ("gb2312.xml", "text/xml; charset=US-ASCII", "经济增长放缓"),
        ("windows-1256.xml", "application/rss+xml; charset=ISO-8859-1", "عاجل: افتتاح المعبر"),
        ("windows-1256.xml", "text/xml; charset=latin1", "عاجل: افتتاح المعبر"),
    ],
)
def test_the_declaration_wins_over_a_default_header_charset(
    name: str, content_type: str, title: str
) -> None:
    (entry,) = _normalized(_fixture(name), content_type=content_type)
    assert entry.title == title


def test_other_header_charsets_still_win() -> None:
    (entry,) = _normalized(_fixture("gb2312.xml"), content_type="text/xml; charset=windows-1252")
    assert entry.title != "经济增长放缓"  # as the header says, per RFC 7303


def test_utf7_is_still_refused_under_a_default_header_charset() -> None:
    body = b'<?xml version="1.0" encoding="utf-7"?><rss version="2.0"><channel></channel></rss>'
    with pytest.raises(ParseError, match="UTF-7"):
        parse(body, URL, "application/rss+xml; charset=iso-8859-1")


def test_a_mislabelled_document_served_from_loopback(
    upstream: Upstream, pipeline_env: tuple[object, Store, list[datetime]]
) -> None:
    pipeline, store, _ = pipeline_env
    upstream.set(
        "/mixed.xml",
        _fixture("windows-1256.xml"),
        headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"},
    )
    pipeline.refresh_all()  # type: ignore[attr-defined]
    (entry,) = store.recent_entries(["mixed"], 10)
    assert (entry.title, entry.summary) == ("عاجل: افتتاح المعبر", "أعيد فتح المعبر صباح اليوم.")
    assert entry.published == datetime(2024, 2, 6, 10, tzinfo=UTC)


# --------------------------------------------------------------------------- review fixes


def _rss(items: str) -> bytes:
    return (
        "<rss version='2.0'><channel><title>T</title><link>https://x.example/</link>"
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def test_a_link_given_to_several_stories_is_marked_shared_and_a_repeat_is_not() -> None:
    podcast = _normalized(_fixture("podcast.xml"))
    assert all(e.link_shared for e in podcast)
    a = "<item><title>A</title><link>https://x.example/a</link></item>"
    b = "<item><title>B</title><link>https://x.example/b</link></item>"
    once = _normalized(_rss(a + b))
    twice = _normalized(_rss(a + a + b))  # the upstream lists story A twice
    assert (
        [e.id for e in twice]
        == [e.id for e in once]
        == [
            "https://x.example/a",
            "https://x.example/b",
        ]
    )
    assert not any(e.link_shared for e in twice)


def test_an_undated_entry_keeps_the_time_it_is_stored_with() -> None:
    """Whatever else leaves or joins the document (the oldest dated story scrolling off),
    an undated story already stored stays where it was."""
    dated = (
        "<item><guid isPermaLink='false'>d{n}</guid><title>D{n}</title>"
        "<pubDate>{day} Jan 2024 10:00:00 GMT</pubDate></item>"
    )
    undated = "<item><guid isPermaLink='false'>u1</guid><title>U1</title></item>"
    first = _normalized(_rss(dated.format(n=1, day="02") + undated + dated.format(n=2, day="01")))
    stored = {e.id: e.published for e in first}
    seen = {e.id: NOW for e in first}
    assert stored["u1"] < stored["d2"]  # first fetch: below the source's dated stories
    later = NOW + timedelta(days=2)
    second = normalize_feed(
        parse(_rss(dated.format(n=3, day="03") + undated), URL, None),
        "src",
        URL,
        later,
        seen,
        stored,
    )
    assert {e.id: e.published for e in second}["u1"] == stored["u1"]


def test_thousands_of_undated_entries_get_distinct_times_in_order() -> None:
    items = "".join(
        f"<item><guid isPermaLink='false'>u{n}</guid><title>U{n}</title></item>"
        for n in range(4000)
    )
    entries = _normalized(_rss(items))
    times = [e.published for e in entries]
    assert len(set(times)) == 4000 and times == sorted(times, reverse=True)
