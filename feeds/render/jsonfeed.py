"""JSON Feed 1.1, written with the standard library in the layout of ``json.dumps(indent=2)``.

The document is rendered in parts like the XML formats (see ``marks``): the document up to its
items array, each item's bytes, and what follows the array; ``join_items`` makes the array.
An item is dumped on its own and indented two levels, which gives the same bytes as dumping
the whole document (JSON strings hold no raw line breaks, so every line break in an item's
text is one of its own layout).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feeds.errors import FeedsError
from feeds.render.common import (
    DEFAULT_MIME_TYPE,
    channel_link,
    content_html,
    feed_description,
    feed_title,
    feed_url,
    icon,
    item_title,
)
from feeds.times import rfc3339
from feeds.types import FeedSpec, Format, Item, Page, Site

__all__ = ["join_items", "render_json"]

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


def render_json(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page
) -> tuple[bytes, list[bytes], bytes]:
    """The JSON Feed with ``items`` (cleaned) as ``(head, pieces, tail)``: the document up to
    its items array, each item's bytes, what follows the array (see ``join_items``)."""
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed_title(site, spec),
        "home_page_url": channel_link(site),
        # The current feed's URL on archive pages too: that is what to subscribe to.
        "feed_url": feed_url(site, spec, Format.JSON),
        "description": feed_description(site, spec),
    }
    if page.prev_archive is not None:  # JSON Feed pagination: next_url is the older page
        doc["next_url"] = site.archive_url(spec.name, page.prev_archive, Format.JSON.value)
    if icon(site):
        doc["icon"] = icon(site)
        doc["favicon"] = icon(site)
    if site.language:
        doc["language"] = site.language
    if site.title:
        author: dict[str, str] = {"name": site.title}
        if site.link:
            author["url"] = site.link
        doc["authors"] = [author]
    if site.hub and not page.is_archive:
        doc["hubs"] = [{"type": "WebSub", "url": site.hub}]
    if page.is_archive:
        doc["_archive"] = {"current": feed_url(site, spec, Format.JSON), "page": page.number}
    doc["items"] = []
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    head, empty, tail = text.rpartition('"items": []')
    if not empty or tail != "\n}":  # pragma: no cover - "items" is the last member
        raise FeedsError("unexpected JSON Feed layout: cannot find its items")
    pieces = [
        ("\n" + json.dumps(_json_item(item), ensure_ascii=False, indent=2))
        .replace("\n", "\n    ")
        .encode("utf-8")
        for item in items
    ]
    return f'{head}"items": '.encode(), pieces, b"\n}\n"


def join_items(pieces: Sequence[bytes]) -> bytes:
    """The items array made of the items' bytes, as ``json.dumps(indent=2)`` writes it."""
    return b"[" + b",".join(pieces) + b"\n  ]" if pieces else b"[]"


def _json_item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id}
    if item.link:
        out["url"] = item.link
    if item.title:
        out["title"] = item.title
    content = content_html(item)
    if content:
        out["content_html"] = content
    else:
        out["content_text"] = item.summary or item_title(item)
    if item.summary:
        out["summary"] = item.summary
    if item.image is not None and item.image.url:
        out["image"] = item.image.url
    out["date_published"] = rfc3339(item.published)
    out["date_modified"] = rfc3339(item.updated)
    authors = [{"name": name} for name in item.authors if name.strip()]
    if authors:
        out["authors"] = authors
    tags = [tag for tag in item.tags if tag]
    if tags:
        out["tags"] = tags
    if item.language.strip():
        out["language"] = item.language.strip()
    if item.enclosures:
        attachments = []
        for enclosure in item.enclosures:
            attachment: dict[str, Any] = {
                "url": enclosure.url,
                "mime_type": enclosure.type or DEFAULT_MIME_TYPE,
            }
            if enclosure.length > 0:
                attachment["size_in_bytes"] = enclosure.length
            attachments.append(attachment)
        out["attachments"] = attachments
    if item.sources:
        source = item.sources[0]
        out["_source"] = {"title": source.title or source.url, "url": source.url}
        if len(item.sources) > 1:  # a story merged from several sources credits each
            out["_sources"] = [{"title": s.title or s.url, "url": s.url} for s in item.sources]
    return out
