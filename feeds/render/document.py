"""One document of a feed, rendered in every format from inputs cleaned once.

Each format is rendered in parts (``marks``): what precedes the items, each item's bytes, what
follows them. The document is their concatenation; items whose bytes are already known (from
``incremental.Renderer``'s memory) are taken from there instead of being rendered again. That
gives the same bytes: an item's bytes depend only on the item and the site (whose host mints
the ids that are not IRIs), and the memory is dropped when the site changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from feeds.errors import FeedsError
from feeds.render.atom import render_atom
from feeds.render.clean import clean_item, clean_site, clean_spec
from feeds.render.common import CURRENT, FORMATS, newest
from feeds.render.jsonfeed import join_items, render_json
from feeds.render.rss import render_rss
from feeds.types import FeedSpec, Format, Item, Page, Rendered, Site

__all__ = ["Rendering", "Spliced", "render", "render_all"]


def render(
    site: Site, spec: FeedSpec, items: Sequence[Item], fmt: Format, page: Page = CURRENT
) -> bytes:
    """Render ``items`` (merged, newest first) as one document in ``fmt``. Pure and byte-stable.

    ``page`` is the current document by default; an archive page (``page.number > 0``) is
    marked as such (RFC 5005) and links back to the current document.
    """
    return Rendering(site, spec, items, page).render(fmt, {}).body


def render_all(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page = CURRENT
) -> list[Rendered]:
    """Render one document of a feed in every format: RSS, Atom, JSON Feed (in that order)."""
    # The same bytes as render() for each format; the values are cleaned once for all three.
    results = Rendering(site, spec, items, page).render_all({})
    return [Rendered(format=fmt, body=result.body) for fmt, result in results.items()]


class Spliced(NamedTuple):
    """One format of a document, and how it was made."""

    body: bytes
    pieces: dict[Item, bytes]  # the bytes of each of its items
    fresh: int  # how many items were rendered, rather than taken from what was known


class Rendering:
    """One document of a feed being rendered: site, feed and items are cleaned once (each
    item when first rendered) and shared by the formats."""

    def __init__(self, site: Site, spec: FeedSpec, items: Sequence[Item], page: Page) -> None:
        if page.number < 0:
            raise FeedsError(f"cannot render feed {spec.name!r}: page number {page.number} < 0")
        self.site, self.spec = clean_site(site), clean_spec(spec)
        self._minting_site = clean_site(site, urls=False)  # see clean_item
        self.items = list(items)
        self.page = page
        self._cleaned: dict[Item, Item] = {}

    def render_all(self, known: Mapping[Format, Mapping[Item, bytes]]) -> dict[Format, Spliced]:
        """Every format, in the order of ``FORMATS`` (see ``render``)."""
        return {fmt: self.render(fmt, known.get(fmt, {})) for fmt in FORMATS}

    def render(self, fmt: Format, known: Mapping[Item, bytes]) -> Spliced:
        """The document in ``fmt``; the bytes of the items found in ``known`` are taken from
        there instead of being rendered again."""
        try:
            missing = [item for item in dict.fromkeys(self.items) if item not in known]
            cleaned = [self._clean(item) for item in missing]
            if fmt is Format.JSON:
                head, fresh, tail = render_json(self.site, self.spec, cleaned, self.page)
            elif fmt is Format.RSS:
                updated = newest(self.items)
                head, fresh, tail = render_rss(self.site, self.spec, cleaned, self.page, updated)
            elif fmt is Format.ATOM:
                updated = newest(self.items)
                head, fresh, tail = render_atom(self.site, self.spec, cleaned, self.page, updated)
            else:
                raise FeedsError(f"unknown feed format {fmt!r}")
        except (ValueError, TypeError) as e:  # what feedgen and lxml raise on bad values
            raise FeedsError(f"cannot render feed {self.spec.name!r} as {fmt.value}: {e}") from e
        pieces = dict(zip(missing, fresh, strict=True))
        for item in self.items:
            if item not in pieces:
                pieces[item] = known[item]
        ordered = [pieces[item] for item in self.items]
        if fmt is Format.JSON:
            return Spliced(head + join_items(ordered) + tail, pieces, len(missing))
        return Spliced(head + b"".join(ordered) + tail, pieces, len(missing))

    def _clean(self, item: Item) -> Item:
        cleaned = self._cleaned.get(item)
        if cleaned is None:
            cleaned = self._cleaned[item] = clean_item(self._minting_site, item)
        return cleaned
