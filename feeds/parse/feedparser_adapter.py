"""RSS and Atom through feedparser -> ParsedFeed. The only module importing feedparser.

Decisions:

- feedparser runs with ``sanitize_html=False, resolve_relative_uris=False``: ``normalize``
  sanitises every fragment with nh3 and resolves relative URLs itself, so letting feedparser do
  the same work first would roughly double the parsing cost for nothing.
- The body is converted to UTF-8 once, with feedparser's own public ``convert_to_utf8`` (so with
  its choice of encoding, under the rules of ``feeds.parse.encoding``), and that same UTF-8 text
  is scanned for entity declarations (``feeds.parse.prolog``), handed to feedparser (declared
  as utf-8) and read by the Media RSS pass (``feeds.parse.media``).
- A DOCTYPE naming an external DTD (RSS 0.91's Netscape one) is dropped before feedparser sees
  it: with it, feedparser's strict parser silently drops every HTML entity (``&eacute;`` ...);
  without it the lenient parser decodes them. A DOCTYPE with an internal subset is kept (it
  may declare the entities itself; declaring any is refused anyway).
- feedparser is told the document's URL only when its results depend on it (base attributes,
  or ids that resolving against the URL would change): working out the base URI of every
  element costs a quarter of its time. Otherwise the references used here are resolved against
  the URL with ``feeds.urls``, the same rule.
- ``ParsedEntry.title``, ``summary``, ``content`` are always HTML: text the source declared as
  plain text is HTML-escaped here, so ``normalize`` can treat every such field the same way
  without mangling a literal ``<`` or ``&``.
- ``ParsedEntry.base`` is the base in effect for the HTML (the content's ``xml:base``, else the
  summary's, else the feed URL). Entry links, enclosure and image URLs are resolved here against
  the entry's own base, because in Atom it may differ from the content's. URLs that cannot be
  resolved (``http://[x/``) are kept as written; ``normalize`` drops them.
- RSS authors are names: feedparser mangles "email (Name)" (truncated TLDs), so the name is
  taken from the raw author string.
- The feed's TTL comes from ``<ttl>`` (minutes), else from ``sy:updatePeriod`` divided by
  ``sy:updateFrequency`` (the frequency is "times per period"); at most ``MAX_TTL``, and None
  when it comes out as zero.
- Dates are read from the text the document states (``feeds.parse.dates``), not from
  feedparser's parsed dates (``*_parsed``): its date parser mangles odd and non-English forms
  silently. An entry whose dates are all unreadable is left undated and counted in the feed's
  one warning about them (``ParsedFeed.warnings``).
- A document is a feed when feedparser names its version, or reads at least one entry from a
  document that is not an HTML page: RSS 0.90 and a bare ``<rdf>`` (no version) included.
  Empty bodies, HTML pages and anything else without entries are "not a feed".
"""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from feeds.errors import ParseError
from feeds.parse.dates import read_date, unreadable_warning
from feeds.parse.discovery import detail, html_page
from feeds.parse.encoding import (
    charset,
    declared_encoding,
    effective_content_type,
    refuse_utf7,
    utf8_content_type,
)
from feeds.parse.media import Media, choose_image, media_by_item, non_negative_int
from feeds.parse.prolog import refuse_entities
from feeds.times import SY_PERIODS
from feeds.types import Enclosure, ParsedEntry, ParsedFeed
from feeds.urls import join, join_id

__all__ = ["MAX_TTL", "parse_xml"]

MAX_TTL = timedelta(days=7)
_SY_PERIODS = dict(SY_PERIODS)
_EXTERNAL_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*>", re.IGNORECASE)
# bozo exceptions that say nothing about the document itself
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_xml(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """Read an RSS or Atom document fetched from ``url``; ParseError when it is not one."""
    data, headers = _to_utf8(body, url, content_type)
    refuse_entities(data)
    if not _needs_base(data, url):
        # Without base attributes the base is the URL throughout: the references used here
        # are resolved against it below instead, and ids are resolved by feedparser only when
        # not absolute (then it is told the URL after all).
        del headers["content-location"]
    try:
        # BytesIO: feedparser treats a bare string as a possible URL or file name. Looked up
        # at call time (feedparser.parse), so that it can be observed.
        d = feedparser.parse(
            io.BytesIO(_EXTERNAL_DOCTYPE.sub(b"", data[:2048], count=1) + data[2048:]),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as e:  # feedparser is not supposed to raise, but be sure
        raise ParseError(f"not a feed: {detail(e)}") from e

    version = _get(d, "version") or ""
    raw_entries = _get(d, "entries") or []
    bozo = _get(d, "bozo_exception")
    serious = bozo is not None and not isinstance(bozo, _BENIGN_BOZO)
    if raw_entries:  # a version, or entries read from something that is not an HTML page
        refused = not version and html_page(body, url) is not None
    else:  # an empty feed is a feed only when it is a well-formed one
        refused = not version or serious
    if refused:
        page = html_page(body, url)
        if page:
            raise ParseError(f"not a feed: {page}")
        reason = f" ({bozo})" if bozo is not None else ""
        raise ParseError(f"not a feed: no RSS, Atom or JSON Feed document found{reason}")

    media = media_by_item(data, len(raw_entries))
    undated: list[str] = []
    entries = tuple(
        _entry(e, url, version.startswith("atom"), media[i] if media else None, undated)
        for i, e in enumerate(raw_entries)
    )
    feed = _get(d, "feed") or {}
    warning = unreadable_warning(undated)
    return ParsedFeed(
        title=_get(feed, "title") or "",
        link=join(url, _get(feed, "link")) if _get(feed, "link") else None,
        entries=entries,
        ttl=_ttl(feed),
        warnings=(warning,) if warning else (),
    )


# --------------------------------------------------------------------------- running feedparser


def _to_utf8(body: bytes, url: str, content_type: str | None) -> tuple[bytes, dict[str, str]]:
    """The body as UTF-8, decoded exactly as feedparser would, and the headers to hand it on.

    feedparser.parse runs ``convert_to_utf8`` with these same headers first thing; doing it here
    lets the entity scan read the very characters expat will. The returned headers declare
    utf-8, so feedparser's own (second, cheap) conversion leaves the text as it is.
    """
    headers = {"content-location": url}
    content_type = effective_content_type(body, content_type)
    if content_type:
        headers["content-type"] = content_type
    refuse_utf7(charset(content_type), declared_encoding(body))
    result: dict[str, Any] = {}
    try:
        data = convert_to_utf8(headers, body, result)
    except (UnicodeError, LookupError) as e:
        raise ParseError(f"not a feed: cannot decode the document ({e})") from e
    encoding = result.get("encoding") or ""
    refuse_utf7(encoding)
    if not encoding:  # nothing decoded it: feedparser would read it as UTF-8 with replacements
        data = data.decode("utf-8", "replace").encode("utf-8")
    headers.pop("content-type", None)
    converted = utf8_content_type(content_type)
    if converted:
        headers["content-type"] = converted
    return data, headers


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


# --------------------------------------------------------------------------- its results


def _get(d: Any, key: str, default: Any = None) -> Any:
    """Read a feedparser dict without its legacy key aliases (which warn or mislead)."""
    if isinstance(d, dict):
        return dict.get(d, key, default)
    return default


def _as_html(value: str, text_detail: Any) -> str:
    """feedparser text as HTML: escape it when the source declared plain text."""
    if _get(text_detail, "type") == "text/plain":
        return html.escape(value, quote=False)
    return value


_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>.+)\)\s*$")
_NAME_EMAIL = re.compile(r"^\s*(?P<name>.+?)\s*<\s*\S+@\S+\s*>\s*$")


def _author_name(raw: str) -> str:
    """The name in an RSS author: "email (Name)" or "Name <email>"; else the whole string."""
    match = _EMAIL_NAME.match(raw) or _NAME_EMAIL.match(raw)
    return (match.group("name") if match else raw).strip()


def _entry(
    e: Any, url: str, atom: bool, media: list[Media] | None, undated: list[str]
) -> ParsedEntry:
    """One feedparser entry; the date text of an entry left undated because none of its dates
    can be read is appended to ``undated``."""
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
                    length=non_negative_int(_get(link, "length")) or 0,
                )
            )

    if media is None:  # the stdlib pass could not run: use what feedparser kept
        media = _flattened_media(e)
    link = _get(e, "link")
    raw_published = _get(e, "published")
    raw_updated = _get(e, "updated")
    published = read_date(raw_published) if isinstance(raw_published, str) else None
    updated = read_date(raw_updated) if isinstance(raw_updated, str) else None
    if published is None and updated is None:
        raw = next(
            (r for r in (raw_published, raw_updated) if isinstance(r, str) and r.strip()), None
        )
        if raw is not None:
            undated.append(raw)
    return ParsedEntry(
        id=(_get(e, "id") or "").strip() or None,
        title=_as_html(_get(e, "title") or "", title_detail),
        link=join(entry_base, link.strip()) if link else None,
        published=published,
        updated=updated,
        authors=tuple(authors),
        categories=tuple(categories),
        summary=summary,
        content=content,
        image=choose_image(entry_base, media, enclosures),
        enclosures=tuple(enclosures),
        base=base or url,
    )


def _flattened_media(e: Any) -> list[Media]:
    """The Media RSS feedparser kept for an entry: no captions, the entry's first credit."""
    credits = _get(e, "media_credit") or []
    credit = next((_get(c, "content") for c in credits if _get(c, "content")), "")
    media = [
        Media(
            url=_get(m, "url") or "",
            medium=_get(m, "medium") or "",
            type=_get(m, "type") or "",
            width=non_negative_int(_get(m, "width")),
            height=non_negative_int(_get(m, "height")),
            credit=credit,
        )
        for m in _get(e, "media_content") or []
    ]
    media += [
        Media(
            url=_get(m, "url") or "",
            width=non_negative_int(_get(m, "width")),
            height=non_negative_int(_get(m, "height")),
            credit=credit,
            thumbnail=True,
        )
        for m in _get(e, "media_thumbnail") or []
    ]
    return media


def _ttl(feed: Any) -> timedelta | None:
    """<ttl> (minutes), else sy:updatePeriod / sy:updateFrequency; at most MAX_TTL."""
    minutes = non_negative_int(_get(feed, "ttl"))
    if minutes:
        return timedelta(minutes=min(minutes, MAX_TTL // timedelta(minutes=1)))
    period = _SY_PERIODS.get((_get(feed, "sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    frequency = non_negative_int(_get(feed, "sy_updatefrequency")) or 1
    ttl = period / frequency
    return min(ttl, MAX_TTL) if ttl else None
