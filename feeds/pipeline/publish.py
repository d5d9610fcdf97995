"""Publishing feeds: select and merge the candidates, render every format of every variant
(the feed's own, and partners' where they read it in another content mode), store the
documents whose bytes changed, write archive pages that became full, queue hub pings.

One publisher per process; its lock keeps a publish from interleaving with another or with
an articles sync (which must never fall between a publish's read of articles and its write).
It remembers, per feed, the bytes of the items it last rendered (``Renderer``) and the items
it last recorded for the archive, so that a rebuild after one new entry does little work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from feeds import policy
from feeds.ids import iri
from feeds.merge import distinct_updated, in_mode, merge, too_old, visible
from feeds.pipeline.views import ViewPublisher
from feeds.render import Renderer, fit, render_all
from feeds.store import Store
from feeds.times import Now
from feeds.types import (
    ArchivePage,
    Article,
    Config,
    Entry,
    FeedSpec,
    Format,
    Item,
    ItemEvents,
    ItemSource,
    LeftOut,
    LeftOutReason,
    Override,
    Overrides,
    Page,
    Site,
)
from feeds.urls import public_url

log = logging.getLogger(__name__)

MAX_CANDIDATES = 20_000  # entries a publish looks at, at most, however narrow its filters
EXTRA_CANDIDATES = 20  # beyond the limit: duplicates across sources merge away


class Publisher:
    def __init__(self, config: Config, store: Store, clock: Now) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self._renderer = Renderer()
        self._views = ViewPublisher(store)  # the feeds' HTML views
        self._recorded: dict[str, frozenset[Item]] = {}  # see _publish_archives
        self._variants: dict[str, frozenset[str]] = {}  # the variants last stored, per feed
        self._overrides: list[Override] | None = None  # read at the first publish
        self._overrides_generation = -1  # of the overrides read (see overrides_changed)
        self._pin_ends: datetime | None = None  # when the next pin read ends

    def reconfigure(self, config: Config) -> None:
        """Use a new config; what was remembered of each feed was for the old one."""
        with self.lock:  # not while a publish remembers what it did
            self.config = config
            self._renderer = Renderer()
            self._views.forget()
            self._recorded.clear()
            self._variants.clear()

    def reload_overrides(self) -> None:
        """Read the editors' overrides again (they changed): the next publish applies them."""
        with self.lock:
            self._overrides_generation = self.store.override_generation()
            self._overrides = self.store.overrides()
            now = self.clock()
            ends = [o.until for o in self._overrides if o.until is not None and o.until > now]
            self._pin_ends = min(ends, default=None)

    def overrides_changed(self) -> bool:
        """Whether an override command was stored, or a pin ended, since the overrides were
        last read."""
        if self._pin_ends is not None and self.clock() >= self._pin_ends:
            return True
        return self.store.override_generation() != self._overrides_generation

    def overrides(self, spec: FeedSpec, now: datetime) -> Overrides:
        """The overrides that apply to ``spec`` at ``now`` (read at the first publish)."""
        if self._overrides is None:
            self.reload_overrides()
        assert self._overrides is not None
        return Overrides.for_feed(self._overrides, spec.name, now)

    def preview(self, spec: FeedSpec) -> Preview:
        """What ``spec`` would publish now, and every candidate it leaves out and why,
        publishing nothing."""
        with self.lock:
            now = self.clock()
            explain: list[LeftOut] = []
            items = self._items(spec, self.store.articles(), now, explain)
            own = in_mode(items, spec.content)
            page = Page(prev_archive=None, ttl=policy.feed_ttl(self.config, spec))
            site = _site_for(self.config, spec)
            _, omitted = fit(site, spec, own, page, render_all(site, spec, own, page))
            cut = max(omitted.values(), default=0)
            if cut:
                for item in own[len(own) - cut :]:
                    source = item.sources[0].id if item.sources else ""
                    budget = f"beyond the byte budget of {spec.max_bytes:,} bytes (max_bytes)"
                    explain.append(
                        LeftOut(
                            item.id,
                            item.title,
                            item.link,
                            item.published,
                            LeftOutReason.BUDGET,
                            budget,
                            source,
                        )
                    )
                own = own[: len(own) - cut]
            return Preview(items=tuple(own), left_out=tuple(explain))

    def publish(self, spec: FeedSpec, articles: Sequence[Article] | None = None) -> list[Format]:
        """Render one feed (and any newly full archive page) in every format and variant;
        store the documents whose bytes changed; queue WebSub pings for changed current
        documents of a public feed. Returns the formats of the feed's own documents that
        changed.

        Archive pages hold the feed's own items: a partners' variant links to the same
        archive."""
        with self.lock:
            now = self.clock()
            config = self.config
            if articles is None:
                articles = self.store.articles()
            items = self._items(spec, articles, now)
            own = in_mode(items, spec.content)
            full_pages = self._publish_archives(spec, own, now)
            page = Page(prev_archive=full_pages or None, ttl=policy.feed_ttl(config, spec))
            variants = policy.variants(spec, config.partners)
            site = _site_for(config, spec)
            changed: list[Format] = []
            viewed: Sequence[Item] = ()
            for variant, mode in variants.items():
                shown = own if not variant else in_mode(items, mode)
                rendered = self._renderer.render_all(site, spec, shown, page, variant=variant)
                # Within the feed's byte budget: a document over it leaves out its oldest items.
                rendered, omitted = fit(site, spec, shown, page, rendered)
                bodies = {r.format: r.body for r in rendered}
                formats = self.store.put_documents(
                    spec.name, bodies, now, variant=variant, omitted=omitted
                )
                if formats:
                    log.info(
                        "published %s%s (%s), %d items",
                        spec.name,
                        f" for partners reading {variant}" if variant else "",
                        ", ".join(f.value for f in formats),
                        len(shown),
                    )
                if not variant:
                    changed = formats
                    viewed = shown[: len(shown) - omitted.get(Format.RSS, 0)]  # as in RSS
            self._views.publish(config.site, spec, viewed, now)
            if self._variants.get(spec.name) != frozenset(variants):
                self.store.keep_variants(spec.name, variants)
                self._variants[spec.name] = frozenset(variants)
            if changed and config.site.hub and spec.public:
                for fmt in changed:
                    topic = config.site.feed_url(spec.name, fmt.value)
                    self.store.queue_hub_ping(config.site.hub, topic, now)
            return changed

    def publish_all(self, specs: Iterable[FeedSpec] | None = None) -> list[str]:
        """Publish feeds; one failing feed is logged and never stops the others. Returns
        "name.format" of every document that changed."""
        published: list[str] = []
        with self.lock:  # one consistent set of articles for every feed
            articles = self.store.articles()
            for spec in specs if specs is not None else self.config.feeds:
                try:
                    changed = self.publish(spec, articles)
                except Exception:
                    log.exception("publishing %s failed", spec.name)
                    continue
                published.extend(f"{spec.name}.{fmt.value}" for fmt in changed)
        return published

    def _items(
        self,
        spec: FeedSpec,
        articles: Sequence[Article],
        now: datetime,
        explain: list[LeftOut] | None = None,
    ) -> list[Item]:
        """The feed's items now. Candidates: a few more than the limit, more (four times as
        many each time) while filters leave too few, and the entries pinned to the feed
        however old. Always the same for the same stored entries: which copy of a story is
        credited first depends on how far back the candidates go, so a feed must not change
        when nothing else did. ``explain`` receives what the last round left out."""
        config = self.config
        source_ids = config.source_ids_for(spec)
        sources = self._item_sources(source_ids)
        rights = {sid: s.republish for sid in source_ids if (s := config.source(sid))}
        since = now - spec.max_age if spec.max_age else None
        overrides = self.overrides(spec, now)
        pinned = (
            self.store.entries_named(source_ids, overrides.pins, config.site)
            if overrides.pins
            else []
        )
        want = spec.limit + EXTRA_CANDIDATES
        while True:
            entries = self.store.recent_entries(source_ids, want, since)
            candidates = _with(entries, pinned)
            round_explain: list[LeftOut] | None = None if explain is None else []
            items = merge(
                spec,
                config.site,
                articles,
                candidates,
                sources,
                now,
                rights,
                overrides,
                round_explain,
            )
            if len(items) >= spec.limit or len(entries) < want or want >= MAX_CANDIDATES:
                if explain is not None and round_explain is not None:
                    explain.extend(round_explain)
                    if since is not None:
                        older = self.store.recent_entries(source_ids, want)
                        explain.extend(too_old(spec, config.site, older, sources, now))
                return items
            want = min(want * 4, MAX_CANDIDATES)

    def _item_sources(self, source_ids: Sequence[str]) -> dict[str, ItemSource]:
        """How items credit each source: its title and feed URL (where it moved to, without
        credentials)."""
        moved = self.store.moved_urls() if source_ids else {}
        found = {}
        for sid in source_ids:
            source = self.config.source(sid)
            if source is not None:
                url = public_url(moved.get(sid) or source.url)
                found[sid] = ItemSource(id=sid, title=source.title, url=url)
        return found

    def _publish_archives(self, spec: FeedSpec, items: Sequence[Item], now: datetime) -> int:
        """Record the feed's items and write every archive page that has just become full.

        Items are numbered in the order they first appeared in the feed. A page takes the
        next ``archive_page_size`` of them once there are that many; it is written once, all
        formats in one transaction, and never changes (its items' snapshots are frozen, and
        a later page size applies to later pages only). Returns the number of pages.
        """
        size = self.config.site.archive_page_size
        pages = self.store.archive_pages(spec.name)
        for stale in (p for p in pages if p.stale):
            self._rewrite_archive_page(spec, stale, now)
        frozen = pages[-1].last if pages else 0
        # Items recorded as they are by this process's last publish of the feed are still
        # recorded so: only new or changed ones are written, and without any, no page can
        # have become full since the last publish wrote the full ones.
        recorded = self._recorded.get(spec.name, frozenset())
        fresh = [item for item in items if item not in recorded]
        if not fresh and len(items) == len(recorded):
            return len(pages)
        # The webhooks' item events are queued as the items are recorded (store/webhooks.py).
        total = self.store.record_feed_items(
            spec.name, fresh, frozen_upto=frozen, current=items, events=self._events(spec, now)
        )
        number, first = len(pages), frozen + 1
        while total - first + 1 >= size:
            number, last = number + 1, first + size - 1
            recorded_items = self.store.feed_items_range(spec.name, first, last)
            page_items = distinct_updated(
                visible(recorded_items, self.config.site, self.overrides(spec, now))
            )
            page = Page(number=number, prev_archive=number - 1 or None)
            bodies = {
                r.format: r.body
                for r in render_all(_site_for(self.config, spec), spec, page_items, page)
            }
            self.store.write_archive_page(spec.name, number, first, last, bodies, now)
            log.info("archived %s page %d (%d items)", spec.name, number, len(page_items))
            first = last + 1
        self._recorded[spec.name] = frozenset(items)
        return number

    def _events(self, spec: FeedSpec, now: datetime) -> ItemEvents:
        """How this publish's item events name items and tell hidden ones."""
        site, overrides = self.config.site, self.overrides(spec, now)
        return ItemEvents(
            now,
            published_id=lambda item_id: iri(site, item_id),
            hidden=lambda item: not visible([item], site, overrides),
        )

    def _rewrite_archive_page(self, spec: FeedSpec, page: ArchivePage, now: datetime) -> None:
        """Write a stale archive page again: without the items hidden now (a deleted
        article has already left the record), with the ones unhidden."""
        recorded = self.store.feed_items_range(spec.name, page.first, page.last)
        items = distinct_updated(visible(recorded, self.config.site, self.overrides(spec, now)))
        shape = Page(number=page.number, prev_archive=page.number - 1 or None)
        bodies = {
            r.format: r.body for r in render_all(_site_for(self.config, spec), spec, items, shape)
        }
        self.store.rewrite_archive_page(spec.name, page, bodies, now)
        log.info(
            "archive %s page %d written again (%d of %d items: hidden or deleted ones left out)",
            spec.name,
            page.number,
            len(items),
            page.last - page.first + 1,
        )


@dataclass(frozen=True)
class Preview:
    """What a feed would publish now (``items``, in order) and what it leaves out, and why."""

    items: tuple[Item, ...]
    left_out: tuple[LeftOut, ...]


def _with(entries: Sequence[Entry], pinned: Sequence[Entry]) -> Sequence[Entry]:
    """``entries`` and the pinned ones that are not among them."""
    if not pinned:
        return entries
    known = {(e.source_id, e.id) for e in entries}
    return [*entries, *(e for e in pinned if (e.source_id, e.id) not in known)]


def _site_for(config: Config, spec: FeedSpec) -> Site:
    """The site as a feed's documents present it: a partners feed names no hub (it is never
    announced to one)."""
    return config.site if spec.public or not config.site.hub else replace(config.site, hub="")
