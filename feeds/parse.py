"""Bytes -> ParsedFeed. The only module importing feedparser; also reads JSON Feed 1.0/1.1.

Pure: no network, no clock. What comes out is the upstream document as stated (HTML still
unsanitised, relative references still relative to ``ParsedEntry.base``); ``normalize`` makes it
safe and canonical.

Decisions:

- feedparser runs with ``sanitize_html=False, resolve_relative_uris=False``: ``normalize``
  sanitises every fragment with nh3 and resolves relative URLs itself, so letting feedparser do
  the same work first would roughly double the parsing cost for nothing.
- ``ParsedEntry.title``, ``summary``, ``content`` and the image caption/credit are always HTML:
  text the source declared as plain text is HTML-escaped here, so ``normalize`` can treat every
  such field the same way without mangling a literal ``<`` or ``&``.
- ``ParsedEntry.base`` is the base in effect for the HTML (the content's ``xml:base``, else the
  summary's, else the feed URL). Entry links, enclosure and image URLs are resolved here against
  the entry's own base, because in Atom it may differ from the content's.
- Every enclosure is listed, even one that is also chosen as the entry's image.
- A document whose DOCTYPE declares entities (``<!ENTITY`` in the internal subset, general or
  parameter, or a parameter-entity reference) is refused: "not a feed: document declares
  entities (refused)". Real feeds do not need them, and feedparser is not safe with them: its
  ``replace_doctype`` strips declarations only with line-anchored regexes, so a DOCTYPE on the
  XML declaration's line reaches expat intact and expat expands nested entities (bounded only
  by expat >= 2.4's amplification limit: ~20 MB and ~1 s per document, more on older expat).
  External entities and DTDs are never fetched (feedparser turns off external general
  entities; an external DOCTYPE is dropped here anyway); an unresolved reference stays as text.
  The body is converted to UTF-8 once, with feedparser's own ``convert_to_utf8`` (so with its
  choice of encoding), and that same UTF-8 text is both scanned for declarations and handed to
  feedparser (declared as utf-8): no encoding (UTF-16/32, EBCDIC cp037/cp500, ...) can make the
  scanner and the parser read different characters. UTF-7 (declared in the header or the XML
  declaration, or chosen by feedparser) is refused outright: "not a feed: UTF-7 is not
  accepted"; no real feed uses it and it hides markup in plain ASCII (``+ADw-``). The Media RSS
  pass (ElementTree) reads the same UTF-8 text and never runs on a document with any DOCTYPE.
- Encodings follow feedparser (RFC 3023/7303: the HTTP charset, else the XML declaration or
  BOM; then whichever decodes, then utf-8, then windows-1252), with one exception: a header
  charset that contradicts a body declaring UTF-8 (declaration or BOM) and valid as UTF-8 is
  ignored, because that is a server default, not the publisher speaking (see
  ``_effective_content_type``). A body without any declaration follows the header.
- Well-known binary bodies (PDF, PNG, JPEG, GIF, ZIP, gzip) are named in the ParseError.
- The feed's TTL comes from ``<ttl>`` (minutes), else from ``sy:updatePeriod`` divided by
  ``sy:updateFrequency`` (the frequency is "times per period"); at most 7 days, and None when
  it comes out as zero.
- ``parse`` raises ParseError and nothing else: an unexpected exception anywhere (a parser bug,
  a document nested too deeply for the stack) becomes "not a feed: ..." with the original
  chained (``raise ... from e``). URLs that cannot be resolved (``http://[x/``) are kept as
  written; ``normalize`` drops them.
"""

from __future__ import annotations

import codecs
import html
import io
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from feeds.errors import ParseError
from feeds.times import SY_PERIODS
from feeds.types import Enclosure, Image, ParsedEntry, ParsedFeed
from feeds.urls import join, join_id

__all__ = ["parse"]

_JSON_TYPES = ("application/feed+json", "application/json")
_JSON_VERSIONS = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")
_FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif")
_MRSS = "{http://search.yahoo.com/mrss/}"
_ITEM_TAGS = frozenset(
    {
        "item",
        "{http://purl.org/rss/1.0/}item",
        "{http://my.netscape.com/rdf/simple/0.9/}item",
        "{http://www.w3.org/2005/Atom}entry",
        "{http://purl.org/atom/ns#}entry",
    }
)
_SY_PERIODS = dict(SY_PERIODS)
# A DOCTYPE naming an external DTD (RSS 0.91's Netscape one) makes feedparser's strict parser
# silently drop every HTML entity (&eacute; ...); without it the lenient parser decodes them.
# A DOCTYPE with an internal subset ("[...]") is kept: it may declare the entities itself.
_EXTERNAL_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*>", re.IGNORECASE)
# Well-known binary formats, named in the error so an editor sees what the URL serves.
_BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
)
# bozo exceptions that say nothing about the document itself
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
MAX_TTL = timedelta(days=7)
_ERROR_DETAIL_LENGTH = 200


def parse(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS, Atom or JSON Feed document fetched from ``url``.

    Raises ParseError when the body is not a feed (empty, an HTML page, garbage) or declares
    entities in its DOCTYPE (refused: see the module docstring), and never anything else.
    """
    try:
        return _parse(body, url, content_type)
    except ParseError:
        raise
    except RecursionError as e:
        raise ParseError("not a feed: document nested too deeply") from e
    except Exception as e:  # a bug here or in a library: still only this body's problem
        detail = str(e)[:_ERROR_DETAIL_LENGTH]
        raise ParseError(f"not a feed: cannot parse ({type(e).__name__}: {detail})") from e


def _parse(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ParseError("not a feed: empty body")
    for magic, kind in _BINARY_SIGNATURES:
        if body.startswith(magic):
            raise ParseError(f"not a feed: {kind}")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if head.startswith((b"{", b"[")) or (media_type in _JSON_TYPES and not head.startswith(b"<")):
        return _parse_json(body, url)
    return _parse_xml(body, url, content_type)


# --------------------------------------------------------------------------- XML prolog


@dataclass(frozen=True)
class _Prolog:
    has_doctype: bool
    declares_entities: bool


_NAME_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")


def _prolog(body: bytes) -> _Prolog:
    """What the XML prolog (everything before the root element) of a UTF-8 body declares.

    ``body`` is what the XML parser reads (see ``_to_utf8``), NULs removed. The scan follows the
    prolog grammar (XML declaration, comments, processing instructions, whitespace, one
    DOCTYPE with an optional internal subset, quoted literals inside it). When the scan cannot
    reach a root element start tag (the document is not what it claims), any ``<!ENTITY``
    anywhere counts, so a scanner/parser disagreement can only refuse more, never less.
    """
    s = body.replace(b"\x00", b"")
    n = len(s)
    pos = 0
    has_doctype = False
    while pos < n:
        if s[pos] in b" \t\r\n\xef\xbb\xbf\xfe\xff":  # whitespace and stray BOM bytes
            pos += 1
        elif s.startswith(b"<?", pos):
            end = s.find(b"?>", pos + 2)
            pos = n if end < 0 else end + 2
        elif s.startswith(b"<!--", pos):
            end = s.find(b"-->", pos + 4)
            pos = n if end < 0 else end + 3
        elif s[pos : pos + 9].upper() == b"<!DOCTYPE":
            has_doctype = True
            pos, entities = _scan_doctype(s, pos + 9)
            if entities:
                return _Prolog(has_doctype=True, declares_entities=True)
        else:
            break
    root_found = _NAME_START.match(s, pos) is not None
    if not root_found and b"<!ENTITY" in s.upper():
        return _Prolog(has_doctype=has_doctype, declares_entities=True)
    return _Prolog(has_doctype=has_doctype, declares_entities=False)


def _scan_doctype(s: bytes, pos: int) -> tuple[int, bool]:
    """Skip a DOCTYPE from just after ``<!DOCTYPE``: (the position after it, declares entities).

    Any ``<!ENTITY`` declaration (general or parameter) or parameter-entity reference in the
    internal subset counts as declaring entities.
    """
    n = len(s)
    in_subset = False
    entities = False
    while pos < n:
        c = s[pos : pos + 1]
        if c in (b'"', b"'"):
            end = s.find(c, pos + 1)
            pos = n if end < 0 else end + 1
        elif in_subset and s.startswith(b"<!--", pos):
            end = s.find(b"-->", pos + 4)
            pos = n if end < 0 else end + 3
        elif in_subset and s.startswith(b"<?", pos):
            end = s.find(b"?>", pos + 2)
            pos = n if end < 0 else end + 2
        elif in_subset and s[pos : pos + 8].upper() == b"<!ENTITY":
            entities = True
            pos += 8
        elif in_subset and c == b"%":
            entities = True  # a parameter-entity reference: an external DTD pulled in
            pos += 1
        elif c == b"[":
            in_subset = True
            pos += 1
        elif c == b"]":
            in_subset = False
            pos += 1
        elif c == b">" and not in_subset:
            return pos + 1, entities
        else:
            pos += 1
    return n, entities


# --------------------------------------------------------------------------- XML (feedparser)


# What may make feedparser's results depend on the document's URL beyond the references
# resolved here: an attribute that may change the base URI (xml:base, or the plain "base" it
# also reads), and the ids it resolves against the URL (Atom ids, RSS guids unless
# isPermaLink="false"). Linear scans: `[^<>]` never runs past the next tag.
_BASE_ATTRIBUTE = re.compile(rb"\bbase\s*=")
_ID_ELEMENT = re.compile(rb"<(?:[\w.-]+:)?(?:guid|id)\b([^<>]*)>([^<]*)(<(?!/))?", re.IGNORECASE)
_NOT_PERMALINK = re.compile(rb"ispermalink\s*=\s*[\"']false[\"']", re.IGNORECASE)


def _needs_base(data: bytes, url: str) -> bool:
    """Whether feedparser must be told the document's URL to give its results: the document
    has base attributes, or an id that resolving against the URL would change (a relative id,
    or an absolute one that ``urljoin`` rewrites). Anything unusual in an id (a character
    reference, CDATA, markup) counts as needing it."""
    if _BASE_ATTRIBUTE.search(data):
        return True
    for match in _ID_ELEMENT.finditer(data):
        attributes, text, markup = match.groups()
        if _NOT_PERMALINK.search(attributes):
            continue
        if markup is not None or b"&" in text:
            return True
        value = text.decode("utf-8", "replace").strip()
        # What feedparser makes of the id with the URL, and without it.
        if value and join_id(url, value) != join_id("", value):
            return True
    return False


def _get(d: Any, key: str, default: Any = None) -> Any:
    """Read a feedparser dict without its legacy key aliases (which warn or mislead)."""
    if isinstance(d, dict):
        return dict.get(d, key, default)
    return default


_XML_DECLARED_ENCODING = re.compile(
    rb"^(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[^>]*?"
    rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._:-]+)["']"""
)
_CHARSET_PARAMETER = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]*)\"?", re.IGNORECASE)


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _effective_content_type(body: bytes, content_type: str | None) -> str | None:
    """The Content-Type to hand feedparser: a header charset that contradicts a UTF-8 body.

    RFC 7303 lets the header charset win, and feedparser does, repairing only what was decoded
    as ISO-8859-1. A server default (windows-1252, or the site's legacy charset) over a
    document that declares UTF-8 (XML declaration or BOM) and is valid UTF-8 would otherwise
    come out as mojibake ("â€”"). Valid UTF-8 with non-ASCII text is almost never anything
    else, so the document's own statement wins in exactly that case.
    """
    if not content_type:
        return content_type
    match = _CHARSET_PARAMETER.search(content_type)
    if match is None or _codec(match.group(1)) in (None, "utf-8"):
        return content_type
    declared = _XML_DECLARED_ENCODING.match(body)
    says_utf8 = body.startswith(b"\xef\xbb\xbf") or (
        declared is not None and _codec(declared.group(1).decode("ascii")) == "utf-8"
    )
    if not says_utf8:
        return content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return content_type
    return content_type[: match.start()] + "; charset=utf-8" + content_type[match.end() :]


def _is_utf7(name: str | None) -> bool:
    return bool(name) and _codec(name or "") == "utf-7"


def _to_utf8(body: bytes, url: str, content_type: str | None) -> tuple[bytes, dict[str, str]]:
    """The body as UTF-8, decoded exactly as feedparser would, and the headers to hand it on.

    feedparser.parse runs ``convert_to_utf8`` with these same headers first thing; doing it here
    lets the entity scan read the very characters expat will. The returned headers declare
    utf-8, so feedparser's own (second, cheap) conversion leaves the text as it is.
    """
    headers = {"content-location": url}
    content_type = _effective_content_type(body, content_type)
    if content_type:
        headers["content-type"] = content_type
    charset = _CHARSET_PARAMETER.search(content_type or "")
    declared = _XML_DECLARED_ENCODING.match(body)
    if _is_utf7(charset.group(1) if charset else None) or _is_utf7(
        declared.group(1).decode("ascii") if declared else None
    ):
        raise ParseError("not a feed: UTF-7 is not accepted")
    result: dict[str, Any] = {}
    try:
        data = convert_to_utf8(headers, body, result)
    except (UnicodeError, LookupError) as e:
        raise ParseError(f"not a feed: cannot decode the document ({e})") from e
    encoding = result.get("encoding") or ""
    if _is_utf7(encoding):
        raise ParseError("not a feed: UTF-7 is not accepted")
    if not encoding:  # nothing decoded it: feedparser would read it as UTF-8 with replacements
        data = data.decode("utf-8", "replace").encode("utf-8")
    media_type = (content_type or "").split(";", 1)[0].strip()
    headers.pop("content-type", None)
    if media_type:
        headers["content-type"] = f"{media_type}; charset=utf-8"
    return data, headers


def _parse_xml(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    data, headers = _to_utf8(body, url, content_type)
    if _prolog(data).declares_entities:
        raise ParseError("not a feed: document declares entities (refused)")
    if not _needs_base(data, url):
        # Told the document's URL, feedparser works out the base URI of every element, which
        # costs a quarter of its time. Without base attributes that base is the URL throughout:
        # the references used here are resolved against it below instead, and ids are
        # resolved by feedparser only when not absolute (then it is told the URL after all).
        del headers["content-location"]
    try:
        # BytesIO: feedparser treats a bare string as a possible URL or file name.
        d = feedparser.parse(
            io.BytesIO(_EXTERNAL_DOCTYPE.sub(b"", data[:2048], count=1) + data[2048:]),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as e:  # feedparser is not supposed to raise, but be sure
        raise ParseError(f"not a feed: {str(e)[:_ERROR_DETAIL_LENGTH]}") from e

    version = _get(d, "version") or ""
    raw_entries = _get(d, "entries") or []
    bozo = _get(d, "bozo_exception")
    serious = bozo is not None and not isinstance(bozo, _BENIGN_BOZO)
    if not version or (serious and not raw_entries):
        if _looks_like_html(body):
            feed_url = _find_feed_link(body, url)
            if feed_url:
                raise ParseError(f"not a feed: an HTML page; it points to the feed at {feed_url}")
            raise ParseError("not a feed: an HTML page")
        reason = f" ({bozo})" if bozo is not None else ""
        raise ParseError(f"not a feed: no RSS, Atom or JSON Feed document found{reason}")

    media = _media_by_item(data, len(raw_entries))
    entries = tuple(
        _xml_entry(e, url, version.startswith("atom"), media[i] if media else None)
        for i, e in enumerate(raw_entries)
    )
    feed = _get(d, "feed") or {}
    return ParsedFeed(
        title=_get(feed, "title") or "",
        link=join(url, _get(feed, "link")) if _get(feed, "link") else None,
        entries=entries,
        ttl=_ttl(feed),
    )


def _as_html(value: str, detail: Any) -> str:
    """feedparser text as HTML: escape it when the source declared plain text."""
    if _get(detail, "type") == "text/plain":
        return html.escape(value, quote=False)
    return value


_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>.+)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(?P<name>.+?)\s*<\s*\S+@\S+\s*>\s*$")


def _author_name(raw: str) -> str:
    """The name in an RSS author: "email (Name)" or "Name <email>"; else the whole string."""
    match = _EMAIL_NAME.match(raw) or _NAME_EMAIL.match(raw)
    return (match.group("name") if match else raw).strip()


def _struct_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _xml_entry(e: Any, url: str, atom: bool, media: list[_Media] | None) -> ParsedEntry:
    title_detail = _get(e, "title_detail")
    entry_base = _get(title_detail, "base") or url

    contents = [c for c in (_get(e, "content") or []) if _get(c, "value")]
    content = ""
    base = None
    if contents:
        best = max(contents, key=lambda c: len(_get(c, "value")))
        content = _as_html(_get(best, "value"), best)
        base = _get(best, "base")
    summary_detail = _get(e, "summary_detail")
    summary = _get(e, "summary") or ""
    if _get(summary_detail, "value") != summary:
        # media:description overwrites summary_detail but not summary: its type is not ours
        summary_detail = None
    if summary:
        summary = _as_html(summary, summary_detail)
        base = base or _get(summary_detail, "base")

    authors: list[str] = []
    for a in _get(e, "authors") or []:
        if _get(a, "email") and not atom:
            continue  # feedparser mangles "email (Name)" (truncated TLDs): see below
        name = (_get(a, "name") or _get(a, "email") or "").strip()
        if name and name not in authors:
            authors.append(name)
    raw_author = _get(e, "author") or ""
    if not atom and "@" in raw_author:
        name = _author_name(raw_author)
        if name and name not in authors:
            authors.append(name)

    categories: list[str] = []
    for tag in _get(e, "tags") or []:
        term = (_get(tag, "term") or _get(tag, "label") or "").strip()
        if term:
            categories.append(term)

    enclosures = []
    for link in _get(e, "links") or []:
        if _get(link, "rel") == "enclosure" and _get(link, "href"):
            enclosures.append(
                Enclosure(
                    url=join(entry_base, _get(link, "href").strip()),
                    type=(_get(link, "type") or "").strip(),
                    length=_int(_get(link, "length")) or 0,
                )
            )

    link = _get(e, "link")
    return ParsedEntry(
        id=(_get(e, "id") or "").strip() or None,
        title=_as_html(_get(e, "title") or "", title_detail),
        link=join(entry_base, link.strip()) if link else None,
        published=_struct_to_datetime(_get(e, "published_parsed")),
        updated=_struct_to_datetime(_get(e, "updated_parsed")),
        authors=tuple(authors),
        categories=tuple(categories),
        summary=summary,
        content=content,
        image=_xml_image(e, entry_base, media, enclosures),
        enclosures=tuple(enclosures),
        base=base or url,
    )


@dataclass
class _Media:
    """A media:content or media:thumbnail element with the text around it."""

    url: str
    medium: str = ""
    type: str = ""
    width: int | None = None
    height: int | None = None
    credit: str = ""
    caption: str = ""
    thumbnail: bool = False

    @property
    def is_image(self) -> bool:
        if self.thumbnail or self.medium == "image" or self.type.startswith("image/"):
            return True
        if self.medium or self.type:
            return False
        try:
            path = urlsplit(self.url).path
        except ValueError:
            return False
        return path.lower().endswith(_IMAGE_EXTENSIONS)


def _int(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def _xml_image(
    e: Any, base: str, media: list[_Media] | None, enclosures: list[Enclosure]
) -> Image | None:
    if media is None:  # the stdlib pass could not run: use what feedparser kept
        credits = _get(e, "media_credit") or []
        credit = next((_get(c, "content") for c in credits if _get(c, "content")), "")
        media = [
            _Media(
                url=_get(m, "url") or "",
                medium=_get(m, "medium") or "",
                type=_get(m, "type") or "",
                width=_int(_get(m, "width")),
                height=_int(_get(m, "height")),
                credit=credit,
            )
            for m in _get(e, "media_content") or []
        ]
        media += [
            _Media(
                url=_get(m, "url") or "",
                width=_int(_get(m, "width")),
                height=_int(_get(m, "height")),
                credit=credit,
                thumbnail=True,
            )
            for m in _get(e, "media_thumbnail") or []
        ]
    images = [m for m in media if m.url and m.is_image]
    # the largest media:content image, else the first thumbnail
    contents = [m for m in images if not m.thumbnail]
    chosen = max(contents, key=lambda m: m.width or 0) if contents else None
    chosen = chosen or next(iter(images), None)
    if chosen is not None:
        return Image(
            url=join(base, chosen.url.strip()),
            caption=chosen.caption,
            credit=chosen.credit,
            width=chosen.width,
            height=chosen.height,
            type=chosen.type if chosen.type.startswith("image/") else "",
        )
    for enc in enclosures:
        if enc.type.startswith("image/"):
            return Image(url=enc.url, type=enc.type)
    return None


def _media_by_item(body: bytes, count: int) -> list[list[_Media]] | None:
    """Media RSS per item, read with the stdlib because feedparser flattens it.

    feedparser drops media:description (it overwrites the entry summary's detail) and loses
    which media:credit belongs to which media:content. Returns None when the document has no
    Media RSS or is not well-formed XML, or when its items do not line up with feedparser's.

    ElementTree (expat) expands internal entities, so it never reads a document that has a
    DOCTYPE at all: for those feedparser's flattened media data serves.
    """
    if b"search.yahoo.com/mrss" not in body or _prolog(body).has_doctype:
        return None
    try:
        root = ET.fromstring(body)
    except (ET.ParseError, ValueError, LookupError):
        return None
    items = [el for el in root.iter() if el.tag in _ITEM_TAGS]
    if len(items) != count:
        return None
    return [_item_media(item) for item in items]


def _text(el: ET.Element | None) -> str:
    if el is None:
        return ""
    value = "".join(el.itertext()).strip()
    if el.get("type", "plain") != "html":
        value = html.escape(value, quote=False)
    return value


def _item_media(item: ET.Element) -> list[_Media]:
    """media:content and media:thumbnail of one item, with their credit and caption.

    A credit is inherited from the enclosing media:group or item; a caption (media:description,
    else media:title) only from the enclosing media:group or media:content, because an item's own
    media:description describes the item, not a picture.
    """
    found: list[_Media] = []

    def own(el: ET.Element, name: str) -> str:
        return _text(el.find(_MRSS + name))

    # Depth first, in document order, with an explicit stack: nesting depth is the upstream's
    # choice (thousands of media:group must not exhaust the Python stack).
    stack: list[tuple[Iterator[ET.Element], str, str]] = [(iter(item), own(item, "credit"), "")]
    while stack:
        children, credit, caption = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
        elif child.tag == _MRSS + "group":
            stack.append(
                (
                    iter(child),
                    own(child, "credit") or credit,
                    own(child, "description") or own(child, "title") or caption,
                )
            )
        elif child.tag in (_MRSS + "content", _MRSS + "thumbnail"):
            m = _Media(
                url=(child.get("url") or "").strip(),
                medium=(child.get("medium") or "").strip().lower(),
                type=(child.get("type") or "").strip().lower(),
                width=_int(child.get("width")),
                height=_int(child.get("height")),
                credit=own(child, "credit") or credit,
                caption=own(child, "description") or own(child, "title") or caption,
                thumbnail=child.tag == _MRSS + "thumbnail",
            )
            found.append(m)
            if not m.thumbnail:  # thumbnails nested in a media:content
                stack.append((iter(child), m.credit, m.caption))
    return found


def _ttl(feed: Any) -> timedelta | None:
    """<ttl> (minutes), else sy:updatePeriod / sy:updateFrequency; at most MAX_TTL."""
    minutes = _int(_get(feed, "ttl"))
    if minutes:
        return timedelta(minutes=min(minutes, MAX_TTL // timedelta(minutes=1)))
    period = _SY_PERIODS.get((_get(feed, "sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = _int(_get(feed, "sy_updatefrequency")) or 1
    ttl = period / frequency
    return min(ttl, MAX_TTL) if ttl else None


# --------------------------------------------------------------------------- not a feed


def _looks_like_html(body: bytes) -> bool:
    head = body[:4096].lower()
    return b"<html" in head or b"<!doctype html" in head or b"<head" in head


class _FeedLinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "link" and a.get("href"):
            rels = a.get("rel", "").lower().split()
            kind = a.get("type", "").split(";", 1)[0].strip().lower()
            if "alternate" in rels and kind in _FEED_LINK_TYPES:
                self.feeds.append(a["href"])


def _find_feed_link(body: bytes, url: str) -> str | None:
    finder = _FeedLinkFinder()
    try:
        finder.feed(body[:262144].decode("utf-8", "replace"))
        finder.close()
    except Exception:  # HTMLParser is lenient; never let a hint turn into a crash
        pass
    if not finder.feeds:
        return None
    base = join(url, finder.base) if finder.base else url
    return join(base, finder.feeds[0])


# --------------------------------------------------------------------------- JSON Feed


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except RecursionError as e:
        raise ParseError("not a feed: JSON nested too deeply") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise ParseError(f"not a feed: invalid JSON ({str(e)[:_ERROR_DETAIL_LENGTH]})") from e
    if not isinstance(doc, dict):
        raise ParseError("not a feed: JSON that is not a JSON Feed object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(_JSON_VERSIONS):
        raise ParseError("not a feed: JSON without a JSON Feed version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("not a feed: JSON Feed without an items list")
    feed_authors = _json_authors(doc)
    return ParsedFeed(
        title=_str(doc.get("title")),
        link=_str(doc.get("home_page_url")) or None,
        entries=tuple(
            _json_entry(item, url, feed_authors) for item in items if isinstance(item, dict)
        ),
    )


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_date(value: Any) -> datetime | None:
    text = _str(value)
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # "0001-01-01T00:00:00+05:00" is before year 1 in UTC
        return None


def _json_authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    found: list[Any] = []
    if isinstance(obj.get("authors"), list):  # 1.1
        found.extend(obj["authors"])
    if isinstance(obj.get("author"), dict):  # 1.0
        found.append(obj["author"])
    names: list[str] = []
    for a in found:
        name = _str(a.get("name")) if isinstance(a, dict) else ""
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _json_entry(item: Mapping[str, Any], url: str, feed_authors: tuple[str, ...]) -> ParsedEntry:
    raw_id = item.get("id")
    entry_id = str(raw_id).strip() if isinstance(raw_id, (str, int)) else ""
    content = _str(item.get("content_html"))
    if not content and _str(item.get("content_text")):
        content = _text_to_html(_str(item.get("content_text")))
    summary = _str(item.get("summary"))

    enclosures = []
    for att in _iter_list(item.get("attachments")):
        if isinstance(att, dict) and _str(att.get("url")):
            size = att.get("size_in_bytes")
            enclosures.append(
                Enclosure(
                    url=join(url, _str(att.get("url"))),
                    type=_str(att.get("mime_type")),
                    length=size if isinstance(size, int) and size >= 0 else 0,
                )
            )
    image = None
    if _str(item.get("image")):
        image = Image(url=join(url, _str(item.get("image"))))
    else:
        image = next(
            (Image(url=e.url, type=e.type) for e in enclosures if e.type.startswith("image/")),
            None,
        )
    link = _str(item.get("url")) or _str(item.get("external_url"))
    tags = item.get("tags")
    return ParsedEntry(
        id=entry_id or None,
        title=html.escape(_str(item.get("title")), quote=False),
        link=join(url, link) if link else None,
        published=_json_date(item.get("date_published")),
        updated=_json_date(item.get("date_modified")),
        authors=_json_authors(item) or feed_authors,
        categories=tuple(_str(t) for t in _iter_list(tags) if _str(t)),
        summary=html.escape(summary, quote=False),  # JSON Feed summaries are plain text
        content=content,
        image=image,
        enclosures=tuple(enclosures),
        base=url,
    )


def _iter_list(value: Any) -> Iterable[Any]:
    return value if isinstance(value, list) else ()


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>" for p in paragraphs
    )
