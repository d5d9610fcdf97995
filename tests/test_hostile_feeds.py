"""Ingestion that survives any upstream: XML attacks, encodings, odd feeds, things that are not
feeds. Attack documents live in tests/fixtures/hostile/ (``@SECRET_URL@``/``@DTD_URL@`` are
filled in per test); everything else is built here so the expected text is known.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.errors import ParseError
from feeds.ids import hashed_id
from feeds.normalize import normalize_feed
from feeds.parse import feedparser_adapter, jsonfeed, media, parse
from feeds.types import ParsedFeed

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
URL = "https://up.example/feed"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MARKER = "TOP-SECRET-MARKER-7f3a"
REFUSED = r"^not a feed: document declares entities \(refused\)$"


# --------------------------------------------------------------------------- XML attacks


@pytest.fixture
def secret(tmp_path: Path) -> dict[str, str]:
    """A secret file, and a DTD that would read it, as file: URLs."""
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(MARKER + "\n")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(
        f'<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">\n'
        f"<!ENTITY % inner \"<!ENTITY leak SYSTEM '{secret_file.as_uri()}'>\">\n"
    )
    return {"@SECRET_URL@": secret_file.as_uri(), "@DTD_URL@": dtd.as_uri()}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fail (and record) any attempt to open a connection."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise OSError("network access attempted during parse")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts


def _fixture(name: str, replacements: dict[str, str] | None = None) -> bytes:
    text = (HOSTILE / name).read_text(encoding="utf-8")
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    return text.encode("utf-8")


def _everything(feed: ParsedFeed) -> str:
    return json.dumps(dataclasses.asdict(feed), default=str)


def _bounded(
    body: bytes, content_type: str | None = None
) -> tuple[float, int, ParsedFeed | ParseError]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        outcome: ParsedFeed | ParseError = parse(body, URL, content_type)
    except ParseError as e:
        outcome = e
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, outcome


@pytest.mark.parametrize("name", ["billion-laughs.rss", "billion-laughs.atom"])
def test_billion_laughs_is_refused_quickly_and_cheaply(name: str) -> None:
    elapsed, peak, outcome = _bounded(_fixture(name))
    assert isinstance(outcome, ParseError)
    assert str(outcome) == "not a feed: document declares entities (refused)"
    assert elapsed < 2
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize(
    "declaration",
    [
        # on the DOCTYPE's line: feedparser's line-anchored regexes keep it and expat expands
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;">]>',
        '<?xml version="1.0"?>\n<!-- a > comment --><!doctype rss [\n<!entity a "x">]>',
        '<!DOCTYPE rss [ <!-- ] > --> <!ENTITY a "x"> ]>',
        '<!DOCTYPE rss [<!ATTLIST rss x CDATA "]>"><!ENTITY a "x">]>',
        "<!DOCTYPE rss [<!ENTITY % p \"<!ENTITY a 'x'>\"> %p;]>",
    ],
)
def test_any_entity_declaration_is_refused(declaration: str) -> None:
    body = declaration + '<rss version="2.0"><channel><title>T &a;</title></channel></rss>'
    with pytest.raises(ParseError, match=REFUSED):
        parse(body.encode(), URL)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_entity_declarations_are_found_in_wide_encodings(encoding: str) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY a "x">]>'
        '<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    ).encode(encoding)
    with pytest.raises(ParseError, match=REFUSED):
        parse(body, URL)


def test_entity_declarations_are_found_in_ebcdic() -> None:
    body = (
        '<?xml version="1.0" encoding="cp037"?><!DOCTYPE rss [<!ENTITY a "x">]>'
        '<rss version="2.0"><channel><title>&a;</title></channel></rss>'
    ).encode("cp037")
    with pytest.raises(ParseError, match=REFUSED):
        parse(body, URL)


def test_entity_text_inside_content_is_not_a_declaration() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item>'
        b"<title>XML tips</title><link>https://e.example/1</link>"
        b'<description><![CDATA[<pre>&lt;!ENTITY a "x"&gt;</pre> <!ENTITY b "y">]]></description>'
        b"</item></channel></rss>"
    )
    assert parse(body, URL).entries[0].title == "XML tips"


@pytest.mark.parametrize("name", ["xxe-file.rss", "xxe-http.atom", "parameter-entity.rss"])
def test_external_entities_are_refused_without_io(
    name: str, secret: dict[str, str], no_network: list[Any]
) -> None:
    with pytest.raises(ParseError, match=REFUSED):
        parse(_fixture(name, secret), URL)
    assert no_network == []


def test_external_dtd_is_never_read(secret: dict[str, str], no_network: list[Any]) -> None:
    # No internal subset, so nothing is declared here: the DOCTYPE is dropped, the document
    # parsed, and the entity the DTD would define stays an unresolved, harmless reference.
    feed = parse(_fixture("external-dtd.rss", secret), URL)
    assert feed.title == "External DTD"
    assert MARKER not in _everything(feed)
    assert [e.link for e in feed.entries] == ["https://evil.example/1"]
    assert no_network == []


def test_external_dtd_after_a_long_prolog_is_never_read(
    secret: dict[str, str], no_network: list[Any]
) -> None:
    # beyond the first 2 KB feeds.parse strips an external DOCTYPE in; feedparser/expat must cope
    padding = "<!--" + "x" * 4096 + "-->\n"
    body = _fixture("external-dtd.rss", secret).replace(
        b"<!DOCTYPE", padding.encode() + b"<!DOCTYPE", 1
    )
    feed = parse(body, URL)
    assert MARKER not in _everything(feed)
    assert no_network == []


def test_media_pass_never_reads_a_doctype(secret: dict[str, str]) -> None:
    # ElementTree expands internal entities: the Media RSS pass must not run on such input
    # even if it were called directly.
    assert media.media_by_item(_fixture("billion-laughs.rss"), 1) is None
    assert media.media_by_item(_fixture("xxe-file.rss", secret), 1) is None


# --------------------------------------------------------------------------- encodings

ARABIC = "مرحبا بالعالم - أخبار اليوم"
CHINESE = "台灣新聞：颱風來襲"


def _rss(title: str, declaration: str = "") -> str:
    return (
        f"{declaration}"
        '<rss version="2.0"><channel><title>Channel</title>'
        f"<item><title>{title}</title><link>https://e.example/a</link>"
        f"<description>{title}</description></item>"
        "</channel></rss>"
    )


def _title(body: bytes, content_type: str | None = None) -> str:
    return parse(body, URL, content_type).entries[0].title


def test_windows_1256_in_the_prolog() -> None:
    body = _rss(ARABIC, '<?xml version="1.0" encoding="windows-1256"?>').encode("cp1256")
    assert _title(body) == ARABIC
    assert _title(body, "application/xml") == ARABIC  # no header charset: the prolog rules


def test_windows_1256_only_in_the_http_header() -> None:
    body = _rss(ARABIC, '<?xml version="1.0"?>').encode("cp1256")
    assert _title(body, "application/rss+xml; charset=windows-1256") == ARABIC
    assert _title(body, "text/xml; charset=windows-1256") == ARABIC


def test_big5() -> None:
    body = _rss(CHINESE, '<?xml version="1.0" encoding="big5"?>').encode("big5")
    assert _title(body) == CHINESE
    assert _title(body, "application/rss+xml; charset=big5") == CHINESE


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")])
def test_utf16_with_bom(bom: bytes, codec: str) -> None:
    body = bom + _rss(ARABIC, '<?xml version="1.0" encoding="utf-16"?>').encode(codec)
    assert _title(body) == ARABIC
    assert _title(body, "application/rss+xml") == ARABIC


def test_utf8_with_bom_and_no_declaration() -> None:
    assert _title(b"\xef\xbb\xbf" + _rss(CHINESE).encode()) == CHINESE


def test_header_says_latin1_but_body_is_utf8() -> None:
    # A server default (ISO-8859-1) over a UTF-8 document that says so. RFC 7303 gives the
    # header charset precedence, but feedparser (like browsers and most readers) decodes what
    # decodes: with a utf-8 declaration (or BOM) and bytes valid as UTF-8 the text comes out
    # right, which is what real-world feeds need. Decision: keep feedparser's rule.
    body = _rss("Café — “quoted”", '<?xml version="1.0" encoding="utf-8"?>').encode()
    assert _title(body, "application/rss+xml; charset=ISO-8859-1") == "Café — “quoted”"
    assert _title(b"\xef\xbb\xbf" + body, "text/xml; charset=iso-8859-1") == "Café — “quoted”"


@pytest.mark.parametrize("charset", ["windows-1252", "windows-1256", "iso-8859-15", "koi8-r"])
def test_legacy_header_charset_over_a_utf8_document(charset: str) -> None:
    # feedparser alone gives "Talks â€” 5â‚¬" here: the body's own utf-8 statement wins
    text = "Talks — 5€ “ok” مرحبا"
    body = _rss(text, '<?xml version="1.0" encoding="UTF-8"?>').encode()
    assert _title(body, f"application/rss+xml; charset={charset}") == text
    assert _title(b"\xef\xbb\xbf" + _rss(text).encode(), f"text/xml; charset={charset}") == text


def test_header_charset_wins_when_the_body_is_not_utf8() -> None:
    # declared utf-8 but not valid UTF-8: the header is right (RFC 7303)
    body = _rss(ARABIC, '<?xml version="1.0" encoding="utf-8"?>').encode("cp1256")
    assert _title(body, "application/rss+xml; charset=windows-1256") == ARABIC


def test_text_xml_without_charset_and_utf8_body() -> None:
    # RFC 3023 said text/xml without charset is US-ASCII; feedparser ignores that for UTF-8
    body = _rss("Café", '<?xml version="1.0" encoding="utf-8"?>').encode()
    assert _title(body, "text/xml") == "Café"


def test_undeclared_windows_1252_is_best_effort() -> None:
    text = "“Smart quotes” – café"
    body = _rss(text).encode("cp1252")
    title = _title(body)
    # not UTF-8: decoded as windows-1252 (feedparser's fallback), so the text survives
    assert title == text


def test_undeclared_invalid_bytes_do_not_crash() -> None:
    body = _rss("x").encode().replace(b">x<", b">\x81\x8d\x8f\x90\x9d\xff ok<")
    entries = parse(body, URL).entries
    assert len(entries) == 1
    assert "ok" in entries[0].title


# --------------------------------------------------------------------------- odd feeds


def _normalized(body: bytes, now: datetime = NOW, **kw: Any) -> list[Any]:
    return normalize_feed(parse(body, URL), "src", URL, now, **kw)


def test_entries_without_ids_stay_stable_and_dates_fall_back_to_first_seen() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b"<item><title>No date</title><link>https://e.example/a</link></item>"
        b"<item><title>Bad date</title><link>https://e.example/b</link>"
        b"<pubDate>the day after tomorrow</pubDate></item>"
        b"<item><title>Future</title><link>https://e.example/c</link>"
        b"<pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    first = _normalized(body)
    assert [e.id for e in first] == [
        "https://e.example/a",
        "https://e.example/b",
        "https://e.example/c",
    ]
    # nothing dated: the fetch time, distinct in document order
    times = [NOW, NOW - timedelta(seconds=1), NOW - timedelta(seconds=2)]
    assert [(e.published, e.updated) for e in first] == [(t, t) for t in times]
    later = NOW + timedelta(hours=5)
    seen = {e.id: e.published for e in first}
    second = _normalized(body, later, first_seen=seen)
    assert [e.id for e in second] == [e.id for e in first]
    assert [e.published for e in second] == times  # not `later`


def test_repeated_guids_for_different_stories_stay_distinct() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title>'
        b'<item><guid isPermaLink="false">g1</guid><title>First</title></item>'
        b'<item><guid isPermaLink="false">g2</guid><title>Other</title></item>'
        b'<item><guid isPermaLink="false">g1</guid><title>Again</title></item>'
        b'<item><guid isPermaLink="false">g2</guid><title>Other</title></item>'
        b"<item><guid>https://e.example/p</guid><title>Permalink</title></item>"
        b"<item><guid>https://e.example/p</guid><title>Permalink again</title></item>"
        b"</channel></rss>"
    )
    permalink = "https://e.example/p"  # a permalink guid is also the entry's link
    assert [(e.id, e.title) for e in _normalized(body)] == [
        (hashed_id("g1", "", "First"), "First"),
        ("g2", "Other"),  # its exact repeat is one entry
        (hashed_id("g1", "", "Again"), "Again"),
        (hashed_id(permalink, permalink, "Permalink"), "Permalink"),
        (hashed_id(permalink, permalink, "Permalink again"), "Permalink again"),
    ]


def test_nested_xml_base() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ngo.example/a/">
  <title>T</title><id>tag:ngo.example,2024:f</id><updated>2024-01-01T00:00:00Z</updated>
  <entry xml:base="b/">
    <title>E</title><id>tag:ngo.example,2024:e</id><updated>2024-01-01T00:00:00Z</updated>
    <link href="page.html"/>
    <content type="html" xml:base="c/">&lt;a href="x.html"&gt;x&lt;/a&gt;
      &lt;img src="../i.png"&gt;</content>
  </entry>
</feed>"""
    (entry,) = _normalized(body)
    assert entry.link == "https://ngo.example/a/b/page.html"
    assert 'href="https://ngo.example/a/b/c/x.html"' in entry.content
    assert 'src="https://ngo.example/a/b/i.png"' in entry.content


@pytest.mark.parametrize(
    ("title_xml", "expected"),
    [
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("<![CDATA[<b>Q&A</b>: 5 < 6]]>", "Q&A: 5 < 6"),
        ("<![CDATA[Fish &amp; chips]]>", "Fish & chips"),
    ],
)
def test_markup_and_entities_in_rss_titles(title_xml: str, expected: str) -> None:
    body = (
        '<rss version="2.0"><channel><title>T</title>'
        f"<item><title>{title_xml}</title><link>https://e.example/1</link></item>"
        "</channel></rss>"
    ).encode()
    assert _normalized(body)[0].title == expected


def test_rss_item_with_only_a_description() -> None:
    body = (
        b'<rss version="2.0"><channel><title>T</title><item>'
        b"<description>&lt;p&gt;Breaking: markets &lt;b&gt;rally&lt;/b&gt; today.&lt;/p&gt;"
        b"</description></item></channel></rss>"
    )
    (entry,) = _normalized(body)
    assert entry.title == "Breaking: markets rally today."
    assert entry.summary == "<p>Breaking: markets <b>rally</b> today.</p>"
    assert entry.id.startswith("sha256:")
    assert entry.link == ""


def test_atom_entry_with_only_a_summary() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
      <id>tag:x,2024:f</id><updated>2024-01-01T00:00:00Z</updated>
      <entry><summary type="html">&lt;i&gt;Only&lt;/i&gt; a summary</summary></entry></feed>"""
    (entry,) = _normalized(body)
    assert entry.title == "Only a summary"
    assert entry.summary == "<i>Only</i> a summary"
    assert entry.content == ""


def test_json_feed_with_content_text_only() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [{"id": "1", "content_text": "Line <one> & more\n\nSecond para"}],
    }
    (entry,) = _normalized(json.dumps(doc).encode())
    assert entry.content == "<p>Line &lt;one&gt; &amp; more</p><p>Second para</p>"
    assert entry.title == "Line <one> & more Second para"


@pytest.mark.parametrize(
    "body",
    [
        b'<rss version="2.0"><channel></channel></rss>',
        b'<rss version="2.0"><channel><title>Empty</title></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Empty</title></feed>',
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Empty", "items": []}',
    ],
)
def test_empty_feed(body: bytes) -> None:
    assert parse(body, URL).entries == ()


# --------------------------------------------------------------------------- not a feed


def test_html_page_with_and_without_feed_link() -> None:
    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body>Hi</body></html>"
    with pytest.raises(ParseError, match=r"^not a feed: an HTML page$"):
        parse(page, "https://site.example/news/", "text/html")
    linked = page.replace(
        b"</head>", b'<link rel="alternate" type="application/atom+xml" href="../feed.atom"></head>'
    )
    with pytest.raises(ParseError) as info:
        parse(linked, "https://site.example/news/", "text/html")
    assert str(info.value) == (
        "not a feed: an HTML page; it points to the feed at https://site.example/feed.atom"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", r"^not a feed: empty body$"),
        (bytes(range(256)) * 16, r"^not a feed: no RSS, Atom or JSON Feed document found"),
        (b'{"name": "not a feed", "items": []}', r"^not a feed: JSON without a JSON Feed version$"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', r"JSON Feed without an items list$"),
        (b'["a", "b"]', r"^not a feed: JSON that is not a JSON Feed object$"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj", r"^not a feed: a PDF document$"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", r"^not a feed: a PNG image$"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", r"^not a feed: a JPEG image$"),
        (b"GIF89a\x01\x00\x01\x00", r"^not a feed: a GIF image$"),
        (b"PK\x03\x04\x14\x00", r"^not a feed: a ZIP archive$"),
        (b"\x1f\x8b\x08\x00\x00\x00", r"^not a feed: gzip-compressed data$"),
    ],
)
def test_not_a_feed_messages(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body, URL, "application/octet-stream")


# --------------------------------------------------------------------------- hidden markup

_LAUGHS_DOCTYPE = (
    '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)
_LAUGHS_BODY = (
    '<rss version="2.0"><channel><title>T</title><item><title>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;'
    "</title><link>https://e.example/1</link></item></channel></rss>"
)


@pytest.mark.parametrize(
    "content_type",
    [None, "application/rss+xml", "text/xml; charset=utf-7", "application/xml; charset=UTF-7"],
)
def test_utf7_is_refused(content_type: str | None) -> None:
    # "+ADw-" is "<" in UTF-7: a prolog scanner reading ASCII sees no DOCTYPE at all, while
    # feedparser decodes the declared UTF-7 and hands expat the entity declarations.
    body = (
        '<?xml version="1.0" encoding="utf-7"?>'
        + _LAUGHS_DOCTYPE.replace("<", "+ADw-")
        + _LAUGHS_BODY
    ).encode("ascii")
    with pytest.raises(ParseError, match=r"^not a feed: UTF-7 is not accepted$"):
        parse(body, URL, content_type)


def test_utf7_only_in_the_http_header_is_refused() -> None:
    body = _rss("plain").encode()
    with pytest.raises(ParseError, match=r"^not a feed: UTF-7 is not accepted$"):
        parse(body, URL, "application/rss+xml; charset=utf-7")


@pytest.mark.parametrize("encoding", ["cp500", "cp037", "cp1140", "cp273"])
@pytest.mark.parametrize("header", [False, True])
def test_entity_declarations_are_found_in_every_ebcdic_variant(encoding: str, header: bool) -> None:
    # cp500 writes "!", "[" and "]" differently from cp037: a scanner guessing cp037 missed them
    body = (f'<?xml version="1.0" encoding="{encoding}"?>' + _LAUGHS_DOCTYPE + _LAUGHS_BODY).encode(
        encoding
    )
    content_type = f"application/rss+xml; charset={encoding}" if header else None
    elapsed, peak, outcome = _bounded(body, content_type)
    assert isinstance(outcome, ParseError)
    assert str(outcome) == "not a feed: document declares entities (refused)"
    assert elapsed < 2
    assert peak < 5 * 1024 * 1024


@pytest.mark.parametrize("encoding", ["cp500", "cp1140"])
def test_ebcdic_feeds_still_parse(encoding: str) -> None:
    body = _rss("Caf\u00e9 [news]", f'<?xml version="1.0" encoding="{encoding}"?>')
    assert _title(body.encode(encoding)) == "Caf\u00e9 [news]"


def test_entity_declaration_in_a_header_encoded_body_is_found() -> None:
    # no declaration in the body: only the HTTP charset says how to read it
    body = (_LAUGHS_DOCTYPE + _LAUGHS_BODY).encode("utf-16-le")
    with pytest.raises(ParseError, match=REFUSED):
        parse(body, URL, "application/rss+xml; charset=utf-16le")


# --------------------------------------------------------------------------- nothing but ParseError


def _json_feed(*items: dict[str, Any]) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": list(items)}
    ).encode()


def test_json_feed_with_attachments_that_are_not_a_list() -> None:
    body = _json_feed({"id": "1", "attachments": 5}, {"id": "2", "attachments": {"url": "x"}})
    assert [e.enclosures for e in parse(body, URL).entries] == [(), ()]


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "10000-01-01T00:00:00Z"]
)
def test_json_feed_dates_out_of_range_are_missing(value: str) -> None:
    body = _json_feed({"id": "1", "date_published": value, "date_modified": value})
    (entry,) = parse(body, URL).entries
    assert entry.published is None and entry.updated is None
    assert _normalized(body)[0].published == NOW


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "10000-01-01T00:00:00Z"]
)
def test_xml_dates_out_of_range_are_missing(value: str) -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        f"<entry><id>tag:x,2024:1</id><title>E</title><published>{value}</published>"
        f"<updated>{value}</updated></entry></feed>"
    ).encode()
    (entry,) = parse(body, URL).entries
    assert entry.published is None and entry.updated is None
    assert _normalized(body)[0].published == NOW


def test_urls_that_cannot_be_split_do_not_stop_parsing() -> None:
    bad = "http://[x/"
    body = _json_feed(
        {"id": "1", "url": bad, "image": bad, "attachments": [{"url": bad, "mime_type": "a/b"}]},
        {"id": "2", "url": "/ok", "title": "fine"},
    )
    first, second = _normalized(body)
    assert (first.link, first.image, first.enclosures) == ("", None, ())
    assert second.link == "https://up.example/ok"
    rss = (
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        f"<item><title>x</title><link>{bad}</link><guid>{bad}</guid>"
        f'<enclosure url="{bad}" type="audio/mpeg" length="1"/>'
        f'<media:content url="{bad}" medium="image"/></item>'
        "<item><title>y</title><link>https://e.example/y</link></item></channel></rss>"
    ).encode()
    first, second = _normalized(rss)
    assert (first.link, first.image, first.enclosures) == ("", None, ())
    assert first.id.startswith("sha256:")
    assert second.link == "https://e.example/y"


def test_unsplittable_xml_base_does_not_stop_parsing() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://[x/"><title>T</title>
      <id>tag:x,2024:f</id><updated>2024-01-01T00:00:00Z</updated>
      <entry><title>E</title><id>tag:x,2024:e</id><updated>2024-01-01T00:00:00Z</updated>
      <link href="page.html"/><link rel="enclosure" href="a.mp3" type="audio/mpeg"/>
      <content type="html">&lt;a href="x.html"&gt;x&lt;/a&gt;</content></entry></feed>"""
    (entry,) = _normalized(body)
    assert entry.id == "tag:x,2024:e"
    # feedparser ignores a base it cannot use and resolves against the document URL
    assert entry.link == "https://up.example/page.html"
    assert 'href="https://up.example/x.html"' in entry.content
    entry = normalize_feed(
        ParsedFeed(
            "T", None, (dataclasses.replace(parse(body, URL).entries[0], base="http://[x/"),)
        ),
        "src",
        URL,
        NOW,
    )[0]
    assert "href" not in entry.content  # cannot be resolved: dropped, not raised


def test_deeply_nested_json_is_refused() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []'
        + b', "x":'
        + (b"[" * 100_000)
        + b"]" * 100_000
        + b"}"
    )
    with pytest.raises(ParseError, match=r"^not a feed: JSON nested too deeply$"):
        parse(body, URL)


def test_deeply_nested_media_groups() -> None:
    depth = 5000
    body = (
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title>'
        "<item><title>x</title><link>https://e.example/1</link>"
        + "<media:group>" * depth
        + '<media:content url="https://e.example/deep.jpg" medium="image"/>'
        + "</media:group>" * depth
        + "</item></channel></rss>"
    ).encode()
    (entry,) = _normalized(body)
    assert entry.image is not None and entry.image.url == "https://e.example/deep.jpg"


def test_lone_surrogates_in_json_text() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "1",'
        b' "title": "a\\ud800b", "summary": "s\\udfff", "content_html": "<p>c\\ud83d</p>",'
        b' "tags": ["t\\ud800"], "authors": [{"name": "n\\udc00"}]}]}'
    )
    (entry,) = _normalized(body)
    assert (entry.title, entry.summary, entry.content) == ("ab", "s", "<p>c</p>")
    assert (entry.tags, entry.authors) == (("t",), ("n",))
    json.dumps(dataclasses.asdict(entry), default=str, ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize(
    ("channel", "ttl"),
    [
        ("<ttl>99999999999999999999</ttl>", timedelta(days=7)),
        ("<ttl>20000</ttl>", timedelta(days=7)),
        ("<ttl>60</ttl>", timedelta(hours=1)),
        ("<sy:updatePeriod>yearly</sy:updatePeriod>", timedelta(days=7)),
        (
            "<sy:updatePeriod>hourly</sy:updatePeriod>"
            "<sy:updateFrequency>99999999999999999999999</sy:updateFrequency>",
            None,
        ),
    ],
)
def test_feed_ttl_is_clamped(channel: str, ttl: timedelta | None) -> None:
    body = (
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        f"<channel><title>T</title>{channel}</channel></rss>"
    ).encode()
    assert parse(body, URL).ttl == ttl


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (RuntimeError("boom"), r"^not a feed: cannot parse \(RuntimeError: boom\)$"),
        (RecursionError("deep"), r"^not a feed: document nested too deeply$"),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "x"), r"^not a feed: cannot parse "),
    ],
)
def test_parse_raises_only_parse_error(
    monkeypatch: pytest.MonkeyPatch, error: Exception, message: str
) -> None:
    def broken(*args: Any) -> Any:
        raise error

    monkeypatch.setattr(feedparser_adapter, "parse_xml", broken)
    monkeypatch.setattr(jsonfeed, "parse_json", broken)
    for body in (_rss("x").encode(), _json_feed()):
        with pytest.raises(ParseError, match=message) as info:
            parse(body, URL)
        assert info.value.__cause__ is error


def test_a_feed_with_every_problem_still_publishes() -> None:
    # what one broken upstream used to do to the whole update: every value must be storable
    body = _json_feed(
        {
            "id": "http://[x/",
            "url": "http://example.com:99999/",
            "title": "T\u0000\u0001itle",
            "date_published": "0001-01-01T00:00:00+05:00",
            "image": "https://e.example/i.jpg",
            "attachments": [
                {
                    "url": "https://e.example/a.mp3",
                    "mime_type": "audio/mpeg; x=1",
                    "size_in_bytes": 2**70,
                },
                {"url": "https://e.example/b.mp3", "mime_type": "nonsense"},
            ],
        }
    )
    (entry,) = _normalized(body)
    assert entry.id.startswith("sha256:")
    assert entry.link == ""
    assert entry.title == "Title"
    assert [(e.type, e.length) for e in entry.enclosures] == [
        ("audio/mpeg", 0),
        ("application/octet-stream", 0),
    ]
