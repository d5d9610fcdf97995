"""Render's input guard: every string that reaches a document made safe for XML 1.0, and
every URL a valid URI.

Upstream text is cleaned when it is parsed (``feeds.text.xml_text``), but rows stored before
that rule, values built by hand and the configuration may still hold characters XML refuses
(lxml raises on them) or discourages; they are removed here, once per rendering, so that all
three formats publish the same cleaned values. The rule itself lives in ``feeds.text``.

URLs are stored as they came (an IRI with Arabic letters, a podcast's ``[1]^`` file name) and
published as valid RFC 3986 URIs (``feeds.urls.uri``: what a URI may not hold is
percent-encoded as UTF-8): links, image, enclosure and source URLs, and the site's URLs (self,
alternate, hub, icon and logo links are made from them). Being done here, once, the same URL is
published the same way in every format.

The guard is cheap in the common case: a string without such characters is kept as it is, and
a value none of whose strings changed is returned itself, not copied. Published item ids are
also made absolute IRIs here (``feeds.ids.iri``): Atom requires it, and every format uses the
same id. An id is not a URL to rewrite (readers know the item by it), so non-ASCII letters stay;
only the characters no IRI may hold (``^``, ``[``, ``]`` outside a host, ``"<>`{|}\\``, a stray
``%``) are percent-encoded, as ``feeds.urls.uri(..., iri=True)`` does: an upstream id holding
them was no valid Atom id before either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from feeds.ids import iri
from feeds.text import xml_text
from feeds.types import Enclosure, FeedSpec, Image, Item, ItemSource, Site
from feeds.urls import uri

__all__ = ["clean_item", "clean_site", "clean_spec"]

# The strings each value publishes (Site and FeedSpec hold others that never reach a document),
# and which of them are URLs.
_SITE_TEXTS = ("title", "description", "language", "copyright")
_SITE_URLS = ("link", "base_url", "hub", "icon", "logo")
_SPEC_TEXTS = ("name", "title", "description")
_ITEM_TEXTS = ("id", "title", "summary", "content", "language")
_ITEM_URLS = ("link",)
_IMAGE_TEXTS = ("caption", "credit", "type")
_ENCLOSURE_TEXTS = ("type",)
_SOURCE_TEXTS = ("id", "title")
_URL = ("url",)

_V = TypeVar("_V", Site, FeedSpec, Item, Image, Enclosure, ItemSource)
_E = TypeVar("_E")


def clean_site(site: Site, *, urls: bool = True) -> Site:
    """``site`` with its published strings XML-safe and its URLs URIs (itself when they already
    are); ``urls=False``: its URLs XML-safe only, as ``clean_item`` wants it."""
    if urls:
        return _with_texts(site, _SITE_TEXTS, _SITE_URLS)
    return _with_texts(site, _SITE_TEXTS + _SITE_URLS)


def clean_spec(spec: FeedSpec) -> FeedSpec:
    """``spec`` with its published strings XML-safe (itself when they already are)."""
    return _with_texts(spec, _SPEC_TEXTS)


def clean_item(site: Site, item: Item) -> Item:
    """``item`` as published: every string XML-safe, every URL a URI and the id an absolute
    IRI (the item itself when nothing changes).

    ``site`` is ``clean_site(site, urls=False)``: the host of its link mints the ids that are
    not IRIs, and an id must not change because the link is published percent-encoded.
    """
    cleaned = _with_texts(
        item,
        _ITEM_TEXTS,
        _ITEM_URLS,
        authors=_each(item.authors, xml_text),
        tags=_each(item.tags, xml_text),
        image=None if item.image is None else _with_texts(item.image, _IMAGE_TEXTS, _URL),
        enclosures=_each(item.enclosures, _clean_enclosure),
        sources=_each(item.sources, _clean_source),
    )
    published_id = uri(iri(site, cleaned.id), iri=True)
    if published_id == cleaned.id:
        return cleaned
    return dataclasses.replace(cleaned, id=published_id)


def _clean_enclosure(enclosure: Enclosure) -> Enclosure:
    return _with_texts(enclosure, _ENCLOSURE_TEXTS, _URL)


def _clean_source(source: ItemSource) -> ItemSource:
    return _with_texts(source, _SOURCE_TEXTS, _URL)


def _with_texts(
    value: _V, texts: tuple[str, ...], urls: tuple[str, ...] = (), **cleaned: Any
) -> _V:
    """``value`` with the strings ``texts`` made XML-safe, the strings ``urls`` made XML-safe
    URIs, and the fields ``cleaned`` (already cleaned by the caller) replaced; ``value``
    itself when nothing differs."""
    changes = {name: new for name, new in cleaned.items() if new is not getattr(value, name)}
    for name in texts:
        old = getattr(value, name)
        new = xml_text(old)
        if new != old:
            changes[name] = new
    for name in urls:
        old = getattr(value, name)
        new = uri(xml_text(old))
        if new != old:
            changes[name] = new
    return dataclasses.replace(value, **changes) if changes else value


def _each(values: tuple[_E, ...], clean: Callable[[_E], _E]) -> tuple[_E, ...]:
    """``values`` each cleaned; the same tuple when none changed."""
    cleaned = tuple(clean(value) for value in values)
    if all(new is old for new, old in zip(cleaned, values, strict=True)):
        return values
    return cleaned
