"""A publish's archive work (RFC 5005): record the feed's items, queue their webhook events,
write every archive page that has just become full, write stale pages again.

Called by the publisher inside its write transaction (``Store.writing``), so that the
record, the events, the pages and the current documents that link them are stored together.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from feeds.ids import iri
from feeds.merge import distinct_updated, visible
from feeds.render import render_all
from feeds.store import Store
from feeds.types import ArchivePage, Config, FeedSpec, Item, ItemEvents, Overrides, Page, Site

log = logging.getLogger(__name__)


def publish_archives(
    store: Store,
    config: Config,
    site: Site,
    spec: FeedSpec,
    items: Sequence[Item],
    recorded: frozenset[Item],
    overrides: Overrides,
    now: datetime,
) -> int:
    """Record the feed's items and write every archive page that has just become full.

    Items are numbered in the order they first appeared in the feed. A page takes the
    next ``archive_page_size`` of them once there are that many; it is written once, all
    formats in one transaction, and never changes (its items' snapshots are frozen, and
    a later page size applies to later pages only). ``site``: as the feed's documents
    present it; ``recorded``: the items this process's last publish of the feed recorded.
    Returns the number of pages.
    """
    size = config.site.archive_page_size
    # Items recorded as they are by this process's last publish of the feed are still
    # recorded so: only new or changed ones are written, and without any, no page can
    # have become full since the last publish wrote the full ones.
    fresh = [item for item in items if item not in recorded]
    if not fresh and len(items) == len(recorded):
        pages = store.archive_pages(spec.name)
        _rewrite_stale(store, config, site, spec, pages, overrides, now)
        return len(pages)
    # The webhooks' item events are queued as the items are recorded (store/webhooks.py).
    events = ItemEvents(
        now,
        published_id=lambda item_id: iri(config.site, item_id),
        hidden=lambda item: not visible([item], config.site, overrides),
    )
    pages = []  # read with the record: items on a written page keep their snapshot
    total = store.record_feed_items(spec.name, fresh, current=items, events=events, pages=pages)
    # A stale page holds none of the rows just written (they are numbered after it, or
    # their snapshot is frozen): writing it again after the record is the same.
    _rewrite_stale(store, config, site, spec, pages, overrides, now)
    frozen = pages[-1].last if pages else 0
    number, first = len(pages), frozen + 1
    while total - first + 1 >= size:
        number, last = number + 1, first + size - 1
        recorded_items = store.feed_items_range(spec.name, first, last)
        page_items = distinct_updated(visible(recorded_items, config.site, overrides))
        page = Page(number=number, prev_archive=number - 1 or None)
        bodies = {r.format: r.body for r in render_all(site, spec, page_items, page)}
        store.write_archive_page(spec.name, number, first, last, bodies, now)
        log.info("archived %s page %d (%d items)", spec.name, number, len(page_items))
        first = last + 1
    return number


def _rewrite_stale(
    store: Store,
    config: Config,
    site: Site,
    spec: FeedSpec,
    pages: Sequence[ArchivePage],
    overrides: Overrides,
    now: datetime,
) -> None:
    for stale in (p for p in pages if p.stale):
        _rewrite_archive_page(store, config, site, spec, stale, overrides, now)


def _rewrite_archive_page(
    store: Store,
    config: Config,
    site: Site,
    spec: FeedSpec,
    page: ArchivePage,
    overrides: Overrides,
    now: datetime,
) -> None:
    """Write a stale archive page again: without the items hidden now (a deleted
    article has already left the record), with the ones unhidden."""
    recorded = store.feed_items_range(spec.name, page.first, page.last)
    items = distinct_updated(visible(recorded, config.site, overrides))
    shape = Page(number=page.number, prev_archive=page.number - 1 or None)
    bodies = {r.format: r.body for r in render_all(site, spec, items, shape)}
    store.rewrite_archive_page(spec.name, page, bodies, now)
    log.info(
        "archive %s page %d written again (%d of %d items: hidden or deleted ones left out)",
        spec.name,
        page.number,
        len(items),
        page.last - page.first + 1,
    )
