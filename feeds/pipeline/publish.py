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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from feeds import policy
from feeds.merge import in_mode, merge, too_old
from feeds.pipeline.archive import publish_archives
from feeds.pipeline.views import ViewChange, ViewPublisher
from feeds.render import Renderer, fit, render_all
from feeds.store import VIEW_FORMAT, Store, Unpacked, pack, view_document
from feeds.times import Now
from feeds.types import (
    Article,
    Config,
    Entry,
    FeedSpec,
    Format,
    Item,
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
        self._views = ViewPublisher()  # the feeds' HTML views
        self._recorded: dict[str, frozenset[Item]] = {}  # see archive.publish_archives
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
            site = site_for(self.config, spec)
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
        archive.

        Two transactions: one read (what the feed is made of, its archive pages and the
        ETags of what is stored), then the rendering and compression outside any, then one
        write for everything the publish stores (archive record, item events, archive pages,
        documents, view, hub pings), none when nothing changed. A crash leaves either all of
        it or none. Both on one connection (``Store.held``)."""
        with self.lock, self.store.held():
            now = self.clock()
            config, store = self.config, self.store
            with store.reading():
                if articles is None:
                    articles = store.articles()
                state = store.publish_state(spec.name)
                items = self._items(spec, articles, now, moved=state.moved)
                pages, stored = state.pages, state.etags
            own = in_mode(items, spec.content)
            recorded = self._recorded.get(spec.name, frozenset())
            archive = len(own) != len(recorded) or any(i not in recorded for i in own)
            archive = archive or any(p.stale for p in pages)
            variants = policy.variants(spec, config.partners)
            new_variants = self._variants.get(spec.name) != frozenset(variants)
            rendering = self._render(spec, items, own, len(pages))
            packed = pack(rendering.docs, stored)
            view = rendering.view
            drop_view = view is not None and view.body is None and ("", VIEW_FORMAT) in stored
            if not (archive or packed or new_variants or drop_view):
                if view is not None:  # rendered again, the same bytes as stored
                    self._views.stored(view, False)
                return []
            with store.writing():
                if archive:
                    recorded_now = self._recorded.get(spec.name, frozenset())
                    overrides = self.overrides(spec, now)
                    site = site_for(config, spec)
                    full_pages = publish_archives(
                        store, config, site, spec, own, recorded_now, overrides, now
                    )
                    if full_pages != len(pages):  # a page became full: the feed links it
                        rendering = self._render(spec, items, own, full_pages)
                        packed = pack(rendering.docs, stored)
                written = store.put_packed(spec.name, packed, now)
                view = rendering.view
                if view is not None and view.body is None:
                    view_changed = drop_view and store.drop_view(spec.name)
                else:
                    view_changed = ("", VIEW_FORMAT) in written
                if new_variants:
                    store.keep_variants(spec.name, variants)
                changed = [fmt for fmt in Format if ("", fmt.value) in written]
                if changed and config.site.hub and spec.public:
                    for fmt in changed:
                        topic = config.site.feed_url(spec.name, fmt.value)
                        store.queue_hub_ping(config.site.hub, topic, now)
            # Committed: remember what is stored now.
            self._recorded[spec.name] = frozenset(own)
            self._variants[spec.name] = frozenset(variants)
            if view is not None:
                self._views.stored(view, view_changed)
            for variant, shown in rendering.shown.items():
                formats = [f.value for f in Format if (variant, f.value) in written]
                if formats:
                    log.info(
                        "published %s%s (%s), %d items",
                        spec.name,
                        f" for partners reading {variant}" if variant else "",
                        ", ".join(formats),
                        shown,
                    )
            return changed

    def _render(
        self, spec: FeedSpec, items: Sequence[Item], own: Sequence[Item], pages: int
    ) -> Rendering:
        """Every variant of the feed's current documents, linking ``pages`` archive pages,
        and its view's change (see ViewPublisher)."""
        config = self.config
        page = Page(prev_archive=pages or None, ttl=policy.feed_ttl(config, spec))
        site = site_for(config, spec)
        docs: list[Unpacked] = []
        shown_of: dict[str, int] = {}
        viewed: Sequence[Item] = ()
        for variant, mode in policy.variants(spec, config.partners).items():
            shown = own if not variant else in_mode(items, mode)
            rendered = self._renderer.render_all(site, spec, shown, page, variant=variant)
            # Within the feed's byte budget: a document over it leaves out its oldest items.
            rendered, omitted = fit(site, spec, shown, page, rendered)
            for r in rendered:
                left_out = omitted.get(r.format, 0)
                docs.append(
                    Unpacked(variant, r.format.value, r.body, r.format.content_type, left_out)
                )
            shown_of[variant] = len(shown)
            if not variant:
                viewed = shown[: len(shown) - omitted.get(Format.RSS, 0)]  # as in RSS
        view = self._views.change(config.site, spec, viewed)
        if view is not None and view.body is not None:
            docs.append(view_document(view.body))
        return Rendering(docs, shown_of, view)

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
        *,
        moved: Mapping[str, str] | None = None,
    ) -> list[Item]:
        """The feed's items now. Candidates: a few more than the limit, more (four times as
        many each time) while filters leave too few, and the entries pinned to the feed
        however old. Always the same for the same stored entries: which copy of a story is
        credited first depends on how far back the candidates go, so a feed must not change
        when nothing else did. ``explain`` receives what the last round left out; ``moved``:
        the sources that moved (``Store.moved_urls``), when already read."""
        config = self.config
        source_ids = config.source_ids_for(spec)
        sources = self._item_sources(source_ids, moved)
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

    def _item_sources(
        self, source_ids: Sequence[str], moved: Mapping[str, str] | None = None
    ) -> dict[str, ItemSource]:
        """How items credit each source: its title and feed URL (where it moved to, without
        credentials)."""
        if moved is None:
            moved = self.store.moved_urls() if source_ids else {}
        found = {}
        for sid in source_ids:
            source = self.config.source(sid)
            if source is not None:
                url = public_url(moved.get(sid) or source.url)
                found[sid] = ItemSource(id=sid, title=source.title, url=url)
        return found


@dataclass(frozen=True)
class Rendering:
    """A feed's current documents as rendered (every variant, and its view if that
    changed), and how many items each variant shows."""

    docs: list[Unpacked]
    shown: dict[str, int]
    view: ViewChange | None


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


def site_for(config: Config, spec: FeedSpec) -> Site:
    """The site as a feed's documents present it: a partners feed names no hub (it is never
    announced to one)."""
    return config.site if spec.public or not config.site.hub else replace(config.site, hub="")
