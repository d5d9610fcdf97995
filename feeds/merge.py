"""Pure selection and merging: (articles, entries, FeedSpec, now) -> ordered items.

Deterministic for the same inputs: items are ordered newest first, ties broken by id. Linear
in the number of candidates (plus the sorts): a few dictionary look-ups per candidate.

Identity: an entry is its own item (its id tells it apart), except that one story published
by several sources under the same link is one item crediting each of them, and a local
article absorbs upstream copies of its own link. Whether a link names one story is judged per
source: a link that several candidate entries of one source share (a podcast whose episodes
all link to the show's page, a station whose stories all link to its front page) names none,
and is never used to merge.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from feeds.ids import iri, item_id
from feeds.sanitize import plain_text
from feeds.text import SUMMARY_LENGTH, cut
from feeds.times import rfc3339
from feeds.types import (
    Article,
    ContentMode,
    Entry,
    FeedSpec,
    Item,
    ItemSource,
    LeftOut,
    LeftOutReason,
    Override,
    Overrides,
    Republish,
    Site,
)


def select_articles(spec: FeedSpec, articles: Iterable[Article]) -> list[Article]:
    if spec.local is True:
        return list(articles)
    if spec.local is False:
        return []
    wanted = set(spec.local)
    return [a for a in articles if wanted.intersection(a.tags)]


def dek(text_or_html: str, limit: int = SUMMARY_LENGTH) -> str:
    """A plain-text summary, cut on a word boundary. Remembered for inputs of summary size: a
    feed is rebuilt from mostly the same entries again and again."""
    if len(text_or_html) <= DEK_MEMORY_INPUT:
        return _remembered_dek(text_or_html, limit)
    return _dek(text_or_html, limit)


DEK_MEMORY_INPUT = 4096  # characters; at most 1024 of them remembered (a few MB at most)


@functools.lru_cache(maxsize=1024)
def _remembered_dek(text_or_html: str, limit: int) -> str:
    return _dek(text_or_html, limit)


def _dek(text_or_html: str, limit: int) -> str:
    return cut(plain_text(text_or_html), limit)


def article_item(article: Article) -> Item:
    return Item(
        id=article.link,
        title=article.title,
        link=article.link,
        published=article.published,
        updated=article.updated,
        authors=article.authors,
        tags=article.tags,
        summary=article.summary or dek(article.content),
        content=article.content,
        image=article.image,
        language=article.language,
    )


def entry_item(entry: Entry, source: ItemSource, site: Site, *, summary: bool = True) -> Item:
    """The item of an upstream entry (`summary=False`: without its summary, made later)."""
    return Item(
        id=item_id(site, entry.source_id, entry.id),
        title=entry.title,
        link=entry.link,
        published=entry.published,
        updated=entry.updated,
        authors=entry.authors,
        tags=entry.tags,
        summary=dek(entry.summary or entry.content) if summary else "",
        content=entry.content or entry.summary,
        image=entry.image,
        enclosures=entry.enclosures,
        sources=(source,),
    )


class Filter:
    """A feed's include/exclude regular expressions and maximum age."""

    def __init__(self, spec: FeedSpec) -> None:
        self.include = [re.compile(p, re.IGNORECASE) for p in spec.include]
        self.exclude = [re.compile(p, re.IGNORECASE) for p in spec.exclude]
        self.max_age = spec.max_age

    def accepts(self, item: Item, now: datetime) -> bool:
        return self.why_not(item, now) is None

    def why_not(self, item: Item, now: datetime) -> tuple[LeftOutReason, str] | None:
        """None when the feed takes ``item``; else why not, in an editor's words."""
        if self.max_age is not None and item.published < now - self.max_age:
            return LeftOutReason.AGE, f"older than max_age ({_duration(self.max_age)})"
        if not self.include and not self.exclude:
            return None
        text = "\n".join((item.title, item.summary, " ".join(item.tags)))
        if self.include and not any(p.search(text) for p in self.include):
            patterns = ", ".join(repr(p.pattern) for p in self.include)
            return LeftOutReason.FILTER, f"matches no include pattern ({patterns})"
        for p in self.exclude:
            if p.search(text):
                return LeftOutReason.FILTER, f"matches exclude pattern {p.pattern!r}"
        return None


def merge(
    spec: FeedSpec,
    site: Site,
    articles: Sequence[Article],
    entries: Sequence[Entry],
    sources: Mapping[str, ItemSource],
    now: datetime,
    rights: Mapping[str, Republish] | None = None,
    overrides: Overrides | None = None,
    explain: list[LeftOut] | None = None,
) -> list[Item]:
    """The items of one published feed, in full (``in_mode`` makes a summary variant).

    `articles` are all candidate local articles (selected here by `spec.local`; those dated
    after `now` are held back until then); `entries` are candidate entries of the feed's
    sources. Entries are told apart by their ids. The same story (same link) from several
    sources appears once, crediting every source; a local article wins over upstream copies
    of its link. A link identifies a story only where its source uses it for one story: a
    link its source's document gives to several stories (``Entry.link_shared``), or that two
    or more candidate entries of one source share (a podcast's home page, a digest's daily
    page), merges none of them with anything, so each stays an item of its own.

    ``rights`` caps, per source id, what of its entries the items carry (see
    ``republishable``); filters read the whole entry, as the editor's own desk does.

    ``overrides`` (an editor's, matched by an item's id, published id or link): a hidden
    item is left out; a retitled one carries its new title (filters read it); items pinned
    to this feed come first, newest pin first, whatever the filters, age and dates say, and
    count within the limit. ``explain``, when given, receives every candidate left out and
    why, and every item whose text its source's rights cut.
    """
    keep = Filter(spec)
    items: list[Item] = []
    by_link: dict[str, int] = {}
    seen_ids: set[str] = set()
    shared = _shared_links(entries)
    pinned: dict[str, datetime] = {}  # item id -> when it was pinned

    def left(item: Item, reason: LeftOutReason, detail: str) -> None:
        if explain is not None:
            source = item.sources[0].id if item.sources else ""
            explain.append(
                LeftOut(item.id, item.title, item.link, item.published, reason, detail, source)
            )

    def add(item: Item, by_its_link: bool = True) -> str | None:
        """Add ``item``; when it is a duplicate, the id of the item it duplicates."""
        if item.id in seen_ids:
            return item.id
        if by_its_link and item.link in by_link:
            index = by_link[item.link]
            first = items[index]
            credited = first.sources + tuple(s for s in item.sources if s not in first.sources)
            if first.sources and credited != first.sources:
                items[index] = replace(first, sources=credited)
            return first.id
        seen_ids.add(item.id)
        if by_its_link and item.link:
            by_link[item.link] = len(items)
        items.append(item)
        return None

    def consider(item: Item, by_its_link: bool = True) -> bool:
        """Whether ``item`` joined the feed (filters, overrides, duplicates)."""
        if overrides:
            keys = _keys(site, item)
            hidden = next((overrides.hidden[k] for k in keys if k in overrides.hidden), None)
            if hidden is not None:
                left(item, LeftOutReason.HIDDEN, _by(hidden))
                return False
            title = next((overrides.titles[k] for k in keys if k in overrides.titles), None)
            if title is not None:
                item = replace(item, title=title)
            pin = next((overrides.pins[k] for k in keys if k in overrides.pins), None)
            if pin is not None:
                pinned.setdefault(item.id, pin.at)
        if item.id not in pinned and (why := keep.why_not(item, now)) is not None:
            left(item, *why)
            return False
        duplicate = add(item, by_its_link)
        if duplicate is not None:
            left(item, LeftOutReason.DUPLICATE, f"the same story as {duplicate}")
            return False
        return True

    for article in sorted(select_articles(spec, articles), key=_article_order):
        item = article_item(article)
        if article.published > now:
            left(item, LeftOutReason.EMBARGOED, f"scheduled for {rfc3339(article.published)}")
            continue  # held back until its date (see ``next_release``)
        consider(item)
    # Without include/exclude patterns no decision reads an entry's summary: it is made
    # (plain text, cut) only for the entries that end up in the feed.
    lazy = not keep.include and not keep.exclude
    summaries: dict[str, str] = {}
    for entry in sorted(entries, key=_entry_order):
        source = sources.get(entry.source_id)
        if source is None:
            continue
        item = entry_item(entry, source, site, summary=not lazy)
        by_its_link = (entry.source_id, entry.link) not in shared
        if consider(item, by_its_link) and lazy:
            summaries[item.id] = entry.summary or entry.content

    items.sort(key=lambda i: (-i.published.timestamp(), i.id))
    if pinned:
        first = sorted(
            (i for i in items if i.id in pinned), key=lambda i: -pinned[i.id].timestamp()
        )
        items = first + [i for i in items if i.id not in pinned]
    for over in items[spec.limit :]:
        left(over, LeftOutReason.LIMIT, f"beyond the feed's limit of {spec.limit} items")
    items = items[: spec.limit]
    if summaries:
        items = [
            replace(i, summary=dek(summaries[i.id])) if i.id in summaries else i for i in items
        ]
    if rights:
        capped = []
        for i in items:
            most = rights.get(i.sources[0].id) if i.sources else None
            capped.append(republishable(i, most))
            if explain is not None and most and most is not Republish.FULL and capped[-1] != i:
                left(
                    i,
                    LeftOutReason.RIGHTS,
                    f"published as {most.value} only (source {i.sources[0].id}: republish)",
                )
        items = capped
    return distinct_updated(items)


def too_old(
    spec: FeedSpec,
    site: Site,
    entries: Iterable[Entry],
    sources: Mapping[str, ItemSource],
    now: datetime,
) -> list[LeftOut]:
    """Why ``entries`` older than the feed's ``max_age`` (never candidates: the store leaves
    them out) are not in it, for ``feeds preview --explain``."""
    if spec.max_age is None:
        return []
    detail = f"older than max_age ({_duration(spec.max_age)})"
    return [
        LeftOut(i.id, i.title, i.link, i.published, LeftOutReason.AGE, detail, e.source_id)
        for e in entries
        if (source := sources.get(e.source_id)) is not None
        and (i := entry_item(e, source, site, summary=False)).published < now - spec.max_age
    ]


def visible(items: Sequence[Item], site: Site, overrides: Overrides) -> list[Item]:
    """``items`` without those an editor hid (archive pages are rendered from snapshots)."""
    if not overrides.hidden:
        return list(items)
    return [i for i in items if not any(k in overrides.hidden for k in _keys(site, i))]


def next_release(articles: Iterable[Article], now: datetime) -> datetime | None:
    """When the next scheduled article (dated after ``now``) is due to appear, if any."""
    return min((a.published for a in articles if a.published > now), default=None)


def republishable(item: Item, most: Republish | None) -> Item:
    """What of an upstream item may leave the building, under its source's ``republish``:
    everything; its title, plain-text summary (cut at a word boundary), link, image and
    enclosures; or its title and link. Dates, authors, tags and the source's credit stay.
    A merged item carries the text of the source credited first, so that source's right
    decides. Local articles are the outlet's own and never capped."""
    if most is None or most is Republish.FULL:
        return item
    if most is Republish.SUMMARY:
        return replace(item, content="") if item.content else item
    return replace(item, summary="", content="", image=None, enclosures=())


def in_mode(items: Sequence[Item], mode: ContentMode) -> list[Item]:
    """``items`` as a feed or partner with content ``mode`` receives them: a summary variant
    carries no full text."""
    if mode is ContentMode.FULL:
        return list(items)
    return [replace(i, content="") if i.content else i for i in items]


def distinct_updated(items: Sequence[Item]) -> list[Item]:
    """``items`` (in their order) with no two sharing an ``updated`` time: of items showing
    one time, the one with the smallest id keeps it and the others move a second later each,
    as often as needed. Feed readers and validators take equal modification times in one
    document for a generator's mistake; a second is invisible to readers, and the result
    depends on the set of items alone, not on their order."""
    seen: set[datetime] = set()
    moved: dict[str, datetime] = {}
    for item in sorted(items, key=lambda i: (i.updated, i.id)):
        updated = item.updated
        while updated in seen:
            updated += timedelta(seconds=1)
        seen.add(updated)
        if updated != item.updated:
            moved[item.id] = updated
    if not moved:
        return list(items)
    return [replace(i, updated=moved[i.id]) if i.id in moved else i for i in items]


def _shared_links(entries: Iterable[Entry]) -> frozenset[tuple[str, str]]:
    """``(source id, link)`` of every link that does not identify one story (see ``merge``):
    its source's document gave it to several stories (``Entry.link_shared``, judged on the
    whole document, so that it holds whichever of them are candidates), or two or more of
    ``entries`` of one source share it (stories that never stood in one document)."""
    seen: set[tuple[str, str]] = set()
    shared: set[tuple[str, str]] = set()
    for entry in entries:
        if entry.link:
            key = (entry.source_id, entry.link)
            if key in seen or entry.link_shared:
                shared.add(key)
            seen.add(key)
    return frozenset(shared)


def _keys(site: Site, item: Item) -> tuple[str, ...]:
    """What an editor may name an item by: its id, its published id, its link."""
    return (item.id, iri(site, item.id), item.link) if item.link else (item.id, iri(site, item.id))


def _by(override: Override) -> str:
    why = f": {override.reason}" if override.reason else ""
    return f"hidden by {override.by} at {rfc3339(override.at)}{why}"


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _article_order(article: Article) -> tuple[float, str]:
    return (article.published.timestamp(), article.slug)


def _entry_order(entry: Entry) -> tuple[float, str, str]:
    # Oldest first, so that the first source to publish a story is the one credited first.
    return (entry.published.timestamp(), entry.source_id, entry.id)
