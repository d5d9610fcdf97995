"""Our feedgen extensions' common ground, and the lxml elements they add.

feedgen builds both XML documents with lxml and hands its elements to the extensions registered
with it (see ``rss`` and ``atom``), while the document is being built. ``Extension`` is the one
that changes nothing; the helpers create and place elements the way feedgen does
(``feedgen.util.xml_elem``), so they serialize like feedgen's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.util import xml_elem

from feeds.render.marks import ItemMarks
from feeds.types import Item

__all__ = [
    "ATOM_NS",
    "CONTENT_NS",
    "DCTERMS_NS",
    "DC_NS",
    "FH_NS",
    "MEDIA_NS",
    "SY_NS",
    "XML_NS",
    "Extension",
    "ItemExtension",
    "element",
    "index_after",
    "sub",
]

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"
FH_NS = "http://purl.org/syndication/history/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"


class Extension:
    """A feedgen extension that changes nothing; ours override what they write.

    feedgen asks each extension for the namespaces to declare at the root (``extend_ns``),
    then hands it the element being built (the RSS root or Atom feed, an item or an entry).
    """

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, el: Any) -> Any:
        return el

    def extend_atom(self, el: Any) -> Any:
        return el


class ItemExtension(Extension):
    """The extension of one item (RSS) or entry (Atom), which it also marks (see ``marks``)."""

    def __init__(self, item: Item, marks: ItemMarks) -> None:
        self.item = item
        self.marks = marks


def element(tag: str, text: str | None = None, attrs: dict[str, str] | None = None) -> Any:
    """A new element ``tag`` with ``text`` and the attributes ``attrs`` (in that order)."""
    el = xml_elem(tag)
    for name, value in (attrs or {}).items():
        el.set(name, value)
    if text is not None:
        el.text = text
    return el


def sub(parent: Any, tag: str, text: str | None = None, attrs: dict[str, str] | None = None) -> Any:
    """A new element (see ``element``) appended to ``parent``."""
    el = element(tag, text, attrs)
    parent.append(el)
    return el


def index_after(parent: Any, tags: Sequence[str]) -> int:
    """The position just after the last child named in ``tags`` (0 when there is none)."""
    index = 0
    for i, child in enumerate(parent):
        if child.tag in tags:
            index = i + 1
    return index
