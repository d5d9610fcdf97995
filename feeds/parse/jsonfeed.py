"""JSON Feed 1.0 and 1.1 -> ParsedFeed. Standard library only.

Like the XML path, what comes out is the document as stated, as HTML: ``title`` and ``summary``
(plain text in JSON Feed) are HTML-escaped, ``content_text`` becomes paragraphs when there is no
``content_html``. Entry links, attachments and images are resolved against the feed's URL, which
is also every entry's ``base``. An item's authors default to the feed's (1.0 ``author`` and 1.1
``authors`` both read).

- Titles have their HTML entities decoded once before being escaped: WordPress writes
  ``Add Task &amp; Sub Tasks`` and ``&#8216;Jokes&#8217;`` in this plain-text field, meaning
  ``Add Task & Sub Tasks`` and ``‘Jokes’``. A title that really means a literal ``&amp;`` is
  rarer than that, and markup in a title stays text.
- Dates are RFC 3339 in the specification; they are read like every other feed's
  (``feeds.parse.dates``), so that a date in another form is read too, or left out with the
  feed's warning about unreadable dates. Dates outside what ``datetime`` holds in UTC are left
  out.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from feeds.errors import ParseError
from feeds.parse.dates import read_date, unreadable_warning
from feeds.parse.discovery import detail
from feeds.types import Enclosure, Image, ParsedEntry, ParsedFeed
from feeds.urls import join

__all__ = ["parse_json"]

_VERSIONS = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")


def parse_json(body: bytes, url: str) -> ParsedFeed:
    """Read a JSON Feed fetched from ``url``; ParseError when it is not one."""
    try:
        doc = json.loads(body)
    except RecursionError as e:
        raise ParseError("not a feed: JSON nested too deeply") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise ParseError(f"not a feed: invalid JSON ({detail(e)})") from e
    if not isinstance(doc, dict):
        raise ParseError("not a feed: JSON that is not a JSON Feed object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(_VERSIONS):
        raise ParseError("not a feed: JSON without a JSON Feed version")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("not a feed: JSON Feed without an items list")
    feed_authors = _authors(doc)
    undated: list[str] = []
    entries = tuple(
        _entry(item, url, feed_authors, undated) for item in items if isinstance(item, dict)
    )
    warning = unreadable_warning(undated)
    return ParsedFeed(
        title=_str(doc.get("title")),
        link=_str(doc.get("home_page_url")) or None,
        entries=entries,
        warnings=(warning,) if warning else (),
    )


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
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


def _entry(
    item: Mapping[str, Any], url: str, feed_authors: tuple[str, ...], undated: list[str]
) -> ParsedEntry:
    """One item; the date text of an item left undated because none of its dates can be read
    is appended to ``undated``."""
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
    raw_published, raw_modified = _str(item.get("date_published")), _str(item.get("date_modified"))
    published, updated = read_date(raw_published), read_date(raw_modified)
    if published is None and updated is None and (raw_published or raw_modified):
        undated.append(raw_published or raw_modified)
    return ParsedEntry(
        id=entry_id or None,
        title=html.escape(html.unescape(_str(item.get("title"))), quote=False),
        link=join(url, link) if link else None,
        published=published,
        updated=updated,
        authors=_authors(item) or feed_authors,
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
