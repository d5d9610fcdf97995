"""The lxml elements our feedgen extensions add to the documents feedgen builds.

feedgen builds both XML documents with lxml and hands its elements to our extensions (see
``rss`` and ``atom``); these helpers create and place elements the way feedgen does
(``feedgen.util.xml_elem``), so the serialization is the same as for feedgen's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.util import xml_elem
from lxml import etree  # type: ignore[import-untyped]  # feedgen's own XML library

from feeds.render.common import STYLESHEET

__all__ = [
    "ATOM_NS",
    "CONTENT_NS",
    "DC_NS",
    "FH_NS",
    "MEDIA_NS",
    "SY_NS",
    "XML_NS",
    "add_stylesheet",
    "element",
    "index_after",
    "sub",
]

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"
FH_NS = "http://purl.org/syndication/history/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"


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


def add_stylesheet(root: Any) -> None:
    """``<?xml-stylesheet?>`` before the root element (lxml writes it after the declaration)."""
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET}"')
    )
