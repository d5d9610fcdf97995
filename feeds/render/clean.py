"""Render's input guard: every string that reaches a document made safe for XML 1.0.

Upstream text is cleaned when it is parsed (``feeds.text.xml_text``), but rows stored before
that rule, values built by hand and the configuration may still hold characters XML refuses
(lxml raises on them) or discourages; they are removed here, once per rendering, so that all
three formats publish the same cleaned values. The rule itself lives in ``feeds.text``.

The guard is cheap in the common case: a string without such characters is kept as it is, and
a value none of whose strings changed is returned itself, not copied. Published item ids are
also made absolute IRIs here (``feeds.ids.iri``): Atom requires it, and every format uses the
same id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from feeds.ids import iri
from feeds.text import xml_text
from feeds.types import Enclosure, FeedSpec, Image, Item, ItemSource, Site

__all__ = ["clean_item", "clean_site", "clean_spec"]

# The strings each value publishes (Site and FeedSpec hold others that never reach a document).
_SITE_TEXTS = (
    "title",
    "link",
    "base_url",
    "description",
    "language",
    "copyright",
    "hub",
    "icon",
    "logo",
)
_SPEC_TEXTS = ("name", "title", "description")
_ITEM_TEXTS = ("id", "title", "link", "summary", "content", "language")
_IMAGE_TEXTS = ("url", "caption", "credit", "type")
_ENCLOSURE_TEXTS = ("url", "type")
_SOURCE_TEXTS = ("id", "title", "url")

_V = TypeVar("_V", Site, FeedSpec, Item, Image, Enclosure, ItemSource)
_E = TypeVar("_E")


def clean_site(site: Site) -> Site:
    """``site`` with its published strings XML-safe (itself when they already are)."""
    return _with_texts(site, _SITE_TEXTS)


def clean_spec(spec: FeedSpec) -> FeedSpec:
    """``spec`` with its published strings XML-safe (itself when they already are)."""
    return _with_texts(spec, _SPEC_TEXTS)


def clean_item(site: Site, item: Item) -> Item:
    """``item`` as published: every string XML-safe and the id an absolute IRI (the item
    itself when nothing changes)."""
    cleaned = _with_texts(
        item,
        _ITEM_TEXTS,
        authors=_each(item.authors, xml_text),
        tags=_each(item.tags, xml_text),
        image=None if item.image is None else _with_texts(item.image, _IMAGE_TEXTS),
        enclosures=_each(item.enclosures, _clean_enclosure),
        sources=_each(item.sources, _clean_source),
    )
    published_id = iri(site, cleaned.id)
    if published_id == cleaned.id:
        return cleaned
    return dataclasses.replace(cleaned, id=published_id)


def _clean_enclosure(enclosure: Enclosure) -> Enclosure:
    return _with_texts(enclosure, _ENCLOSURE_TEXTS)


def _clean_source(source: ItemSource) -> ItemSource:
    return _with_texts(source, _SOURCE_TEXTS)


def _with_texts(value: _V, names: tuple[str, ...], **cleaned: Any) -> _V:
    """``value`` with the strings ``names`` cleaned and the fields ``cleaned`` (already cleaned
    by the caller) replaced; ``value`` itself when nothing differs."""
    changes = {name: new for name, new in cleaned.items() if new is not getattr(value, name)}
    for name in names:
        old = getattr(value, name)
        new = xml_text(old)
        if new != old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value


def _each(values: tuple[_E, ...], clean: Callable[[_E], _E]) -> tuple[_E, ...]:
    """``values`` each cleaned; the same tuple when none changed."""
    cleaned = tuple(clean(value) for value in values)
    if all(new is old for new, old in zip(cleaned, values, strict=True)):
        return values
    return cleaned
