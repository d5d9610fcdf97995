"""Media RSS, read with the standard library, and the choice of an entry's image.

feedparser flattens Media RSS: it drops media:description (it overwrites the entry summary's
detail) and loses which media:credit belongs to which media:content. ``media_by_item`` reads the
same UTF-8 text again with ElementTree to keep them. ElementTree (expat) expands internal
entities, so this pass never runs on a document that has a DOCTYPE at all (see
``feeds.parse.prolog``): for those, what feedparser kept serves.

An entry's image is the largest media:content image, else the first media thumbnail, else the
first image enclosure. Every enclosure stays listed, even one chosen as the image. The caption
and credit are HTML, like every other text field of ``ParsedEntry``.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from feeds.parse.prolog import prolog
from feeds.types import Enclosure, Image
from feeds.urls import join

__all__ = ["Media", "choose_image", "media_by_item", "non_negative_int"]

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


def non_negative_int(value: Any) -> int | None:
    """A count written as text (a width, a length in bytes, minutes), else None."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


@dataclass(frozen=True, slots=True)
class Media:
    """A media:content or media:thumbnail element with the text around it."""

    url: str
    medium: str = ""
    type: str = ""
    width: int | None = None
    height: int | None = None
    credit: str = ""  # HTML
    caption: str = ""  # HTML
    thumbnail: bool = False

    @property
    def is_image(self) -> bool:
        """A thumbnail, or said to be an image, or (saying nothing) named like one."""
        if self.thumbnail or self.medium == "image" or self.type.startswith("image/"):
            return True
        if self.medium or self.type:
            return False
        try:
            path = urlsplit(self.url).path
        except ValueError:
            return False
        return path.lower().endswith(_IMAGE_EXTENSIONS)


def media_by_item(body: bytes, count: int) -> list[list[Media]] | None:
    """Media RSS per item of the UTF-8 ``body``, in document order.

    None when the document has no Media RSS, has a DOCTYPE, is not well-formed XML, or when its
    items do not line up with the ``count`` entries feedparser found.
    """
    if b"search.yahoo.com/mrss" not in body or prolog(body).has_doctype:
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


def _item_media(item: ET.Element) -> list[Media]:
    """media:content and media:thumbnail of one item, with their credit and caption.

    A credit is inherited from the enclosing media:group or item; a caption (media:description,
    else media:title) only from the enclosing media:group or media:content, because an item's own
    media:description describes the item, not a picture.
    """
    found: list[Media] = []

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
            m = Media(
                url=(child.get("url") or "").strip(),
                medium=(child.get("medium") or "").strip().lower(),
                type=(child.get("type") or "").strip().lower(),
                width=non_negative_int(child.get("width")),
                height=non_negative_int(child.get("height")),
                credit=own(child, "credit") or credit,
                caption=own(child, "description") or own(child, "title") or caption,
                thumbnail=child.tag == _MRSS + "thumbnail",
            )
            found.append(m)
            if not m.thumbnail:  # thumbnails nested in a media:content
                stack.append((iter(child), m.credit, m.caption))
    return found


def choose_image(
    base: str, media: Sequence[Media], enclosures: Sequence[Enclosure]
) -> Image | None:
    """The entry's image: the largest media:content image, else the first thumbnail, else the
    first image enclosure; a media URL is resolved against the entry's ``base``."""
    images = [m for m in media if m.url and m.is_image]
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
