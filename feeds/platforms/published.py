"""A published RSS document as the platform rules look at it: its channel, its items, their
images, and the size of each in bytes.

Read with the standard library's ElementTree from the bytes the service stored. Those are
this service's own documents, which never declare a DOCTYPE; a document that does is refused
before parsing (ElementTree expands internal entities), like any other document that cannot
be read: ``read_rss`` raises ``ValueError`` with the reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["PublishedFeed", "PublishedImage", "PublishedItem", "read_rss"]

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
MEDIA = "{http://search.yahoo.com/mrss/}"

_ITEM_START = re.compile(rb"<item[\s>]")
_ITEM_END = re.compile(rb"</item\s*>")


@dataclass(frozen=True)
class PublishedImage:
    """An image of an item: media:content or media:thumbnail, or an image enclosure."""

    url: str
    width: int | None = None
    height: int | None = None
    type: str = ""


@dataclass(frozen=True)
class PublishedItem:
    key: str  # how a problem names the item: its guid, else its link, else "item N"
    size: int  # bytes, as published
    title: str | None = None
    link: str | None = None
    guid: str | None = None
    guid_is_permalink: bool = True  # isPermaLink absent or "true"
    description: str | None = None
    content: str | None = None  # content:encoded
    pub_date: str | None = None
    creators: tuple[str, ...] = ()
    images: tuple[PublishedImage, ...] = ()

    @property
    def published(self) -> datetime | None:
        """The pubDate as a time, or None when it is missing or unreadable."""
        return _rfc822(self.pub_date)


@dataclass(frozen=True)
class PublishedFeed:
    """A feed's RSS document."""

    size: int  # bytes
    title: str | None = None
    link: str | None = None
    description: str | None = None
    language: str | None = None
    pub_date: str | None = None
    self_link: str | None = None  # atom:link rel="self": where the document is served
    items: tuple[PublishedItem, ...] = ()


def read_rss(body: bytes) -> PublishedFeed:
    """The RSS document ``body``; ``ValueError`` when it cannot be read as one."""
    if b"<!DOCTYPE" in body[:4096].upper():
        raise ValueError("the document declares a DOCTYPE")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise ValueError(f"not well-formed XML: {e}") from e
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ValueError("not an RSS 2.0 document")
    elements = channel.findall("item")
    sizes = _item_sizes(body, len(elements))
    items = tuple(
        _item(element, n, sizes[n - 1] if sizes else len(ET.tostring(element)))
        for n, element in enumerate(elements, 1)
    )
    selves = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    return PublishedFeed(
        size=len(body),
        title=channel.findtext("title"),
        link=channel.findtext("link"),
        description=channel.findtext("description"),
        language=channel.findtext("language"),
        pub_date=channel.findtext("pubDate"),
        self_link=selves[0].get("href") if selves else None,
        items=items,
    )


def _item_sizes(body: bytes, count: int) -> list[int]:
    """The bytes of each of the ``count`` items, from their tags in ``body`` (an item's text
    is escaped, so its tags are the only ``<item>``s); [] when they cannot be told apart."""
    starts = [m.start() for m in _ITEM_START.finditer(body)]
    ends = [m.end() for m in _ITEM_END.finditer(body)]
    if len(starts) != count or len(ends) != count:
        return []
    return [end - start for start, end in zip(starts, ends, strict=True)]


def _item(el: ET.Element, number: int, size: int) -> PublishedItem:
    guid = el.find("guid")
    guid_text = guid.text.strip() if guid is not None and guid.text else None
    link = el.findtext("link")
    return PublishedItem(
        key=guid_text or (link or "").strip() or f"item {number}",
        size=size,
        title=el.findtext("title"),
        link=link,
        guid=guid_text,
        guid_is_permalink=guid is None or guid.get("isPermaLink", "true") == "true",
        description=el.findtext("description"),
        content=el.findtext(f"{CONTENT}encoded"),
        pub_date=el.findtext("pubDate"),
        creators=tuple(c.text.strip() for c in el.findall(f"{DC}creator") if c.text),
        images=tuple(_images(el)),
    )


def _images(el: ET.Element) -> list[PublishedImage]:
    found = []
    contents = el.findall(f"{MEDIA}content") + el.findall(f"{MEDIA}group/{MEDIA}content")
    for media in contents:
        kind = media.get("type") or ""
        if media.get("medium") == "image" or kind.startswith("image/"):
            found.append(_image(media, kind))
    found += [_image(thumb, "") for thumb in el.findall(f"{MEDIA}thumbnail")]
    for enclosure in el.findall("enclosure"):
        kind = enclosure.get("type") or ""
        if kind.startswith("image/"):
            found.append(_image(enclosure, kind))
    return [image for image in found if image.url]


def _image(el: ET.Element, kind: str) -> PublishedImage:
    return PublishedImage(
        url=(el.get("url") or "").strip(),
        width=_size(el.get("width")),
        height=_size(el.get("height")),
        type=kind,
    )


def _size(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def _rfc822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None
