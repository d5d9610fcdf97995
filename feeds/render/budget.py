"""The byte budget: a document that would be larger than its feed's ``max_bytes`` leaves out
its oldest items, as few as it takes, each format on its own.

Google News reads at most 2 MB of a feed, SmartNews recommends 1 MB: a platform that stops
reading at its limit drops the rest of the document, or all of it. ``fit`` keeps every
document whole and within the budget instead, by leaving out the items at the end of the feed
(the oldest: items are merged newest first). The documents that fit are returned as they were.

``fit`` is pure and byte-stable like the rest of render: a trimmed document is exactly the
document of the items it keeps. Its items are spliced from the bytes of the full document
(``document.Rendering``), so trimming costs one rendering of the full document in that format
and a few cheap splices, however many items are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from feeds.render.document import Rendering
from feeds.types import FeedSpec, Format, Item, Page, Rendered, Site

__all__ = ["fit"]


def fit(
    site: Site,
    spec: FeedSpec,
    items: Sequence[Item],
    page: Page,
    rendered: Sequence[Rendered],
    max_bytes: int | None = None,
) -> tuple[list[Rendered], dict[Format, int]]:
    """``rendered``, the documents of ``items`` (as ``render_all`` gives them), each within
    the budget (``max_bytes``, else the feed's ``max_bytes``).

    A document over the budget is rendered again with its first items only, as many as fit;
    one that holds no item and is still over the budget is kept as that (nothing smaller can
    be published). Returns the documents, in the order given, and how many items each format
    left out (formats that left none out are not listed).
    """
    budget = spec.max_bytes if max_bytes is None else max_bytes
    over = [r.format for r in rendered if len(r.body) > budget]
    if not over:
        return list(rendered), {}
    bodies = {r.format: r.body for r in rendered}
    omitted: dict[Format, int] = {}
    for fmt in over:
        bodies[fmt], kept = _fit(site, spec, list(items), page, fmt, budget)
        omitted[fmt] = len(items) - kept
    return [Rendered(format=r.format, body=bodies[r.format]) for r in rendered], omitted


def _fit(
    site: Site, spec: FeedSpec, items: list[Item], page: Page, fmt: Format, budget: int
) -> tuple[bytes, int]:
    """The document in ``fmt`` of the most first ``items`` that fits ``budget``, and how
    many items it holds."""
    full = Rendering(site, spec, items, page).render(fmt, {})

    def first(count: int) -> bytes:  # the document of the first items, spliced
        return Rendering(site, spec, items[:count], page).render(fmt, full.pieces).body

    # An estimate from the sizes of the items' bytes (the feed's own elements barely change:
    # its dates are of fixed width), then the truth from the splices.
    sizes = [len(full.pieces[item]) for item in items]
    kept, size = len(items), len(full.body)
    while kept > 0 and size > budget:
        kept -= 1
        size -= sizes[kept] + (1 if fmt is Format.JSON else 0)  # JSON: its comma
    body = first(kept)
    while len(body) > budget and kept > 0:
        kept -= 1
        body = first(kept)
    while kept < len(items):
        more = first(kept + 1)
        if len(more) > budget:
            break
        body, kept = more, kept + 1
    return body, kept
