"""Atom 1.0: feedgen writes the skeleton, two feedgen extensions the rest.

feedgen 1.0.0 drops ``rel``/``type``/``length`` from entry links (upstream issues #135, #143),
which turns enclosures into duplicate alternate links: entry links are rebuilt here. An entry's
enclosure links are its enclosures and then its lead image (``common.enclosures``). Dates are
written here too (ISO 8601, ``feeds.times.rfc3339``), as are ``xml:lang`` on entries,
``atom:source`` for aggregated entries and ``fh:archive`` on archive pages.

Every entry has textual content, a ``content`` or a ``summary``: an entry with neither text
nor content gets its title as a text summary (with a link) or as text content (without one,
as Atom requires content or an alternate link).

feedgen builds Atom elements without a namespace (the root carries a literal xmlns attribute),
so the elements added here are un-namespaced too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from feeds.render.common import (
    DEFAULT_MIME_TYPE,
    GENERATOR,
    channel_link,
    content_html,
    document_url,
    enclosures,
    feed_description,
    feed_title,
    feed_url,
    history_links,
    icon,
    item_title,
    logo,
)
from feeds.render.marks import ItemMarks, split_items
from feeds.render.tree import (
    FH_NS,
    XML_NS,
    Extension,
    ItemExtension,
    element,
    index_after,
    sub,
)
from feeds.times import rfc3339, utc
from feeds.types import FeedSpec, Format, Item, Page, Site
from feeds.urls import host_name

__all__ = ["render_atom"]


def render_atom(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page, updated: datetime
) -> tuple[bytes, list[bytes], bytes]:
    """The Atom document with ``items`` (cleaned) as ``(head, pieces, tail)`` (see
    ``marks.split_items``); ``updated`` is the newest change of the feed."""
    marks = ItemMarks()
    fg = FeedGenerator()
    extension = partial(_AtomFeedExtension, updated, page, marks)
    fg.register_extension("feeds", extension, None, atom=True, rss=False)
    # The same id on every page: archive pages are documents of the same logical feed.
    fg.id(feed_url(site, spec, Format.ATOM))
    fg.title(feed_title(site, spec))
    fg.subtitle(feed_description(site, spec))
    fg.updated(updated)
    fg.link(href=channel_link(site), rel="alternate", type="text/html")
    fg.link(
        href=document_url(site, spec, Format.ATOM, page), rel="self", type="application/atom+xml"
    )
    for rel, href in history_links(site, spec, Format.ATOM, page):
        if rel == "hub":
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type="application/atom+xml")
    # Always a feed author: Atom requires one for every entry, and entries may have none.
    # The host as configured: the published link may have its (non-ASCII) host percent-encoded.
    host = urlsplit(channel_link(site)).hostname
    publisher = site.title or (host and host_name(host)) or feed_title(site, spec)
    fg.author({"name": publisher, "uri": site.link} if site.link else {"name": publisher})
    if site.copyright:
        fg.rights(site.copyright)
    fg.generator(GENERATOR)
    if icon(site):
        fg.icon(icon(site))
    if logo(site):
        fg.logo(logo(site))
    if site.language:
        fg.language(site.language)  # xml:lang on <feed>

    for item in items:
        fe = fg.add_entry(order="append")
        title = item_title(item)
        fe.id(item.id)
        fe.title(title)
        fe.updated(utc(item.updated))
        fe.published(utc(item.published))  # Atom dates are isoformat, not setlocale
        for name in item.authors:
            if name.strip():
                fe.author(name=name)
        content = content_html(item)
        if content:
            fe.content(content, type="html")
        elif not item.link:
            # Atom requires content or an alternate link.
            fe.content(item.summary or title, type="text")
        if item.summary:
            fe.summary(item.summary, type="text")
        elif content == "" and item.link:
            # Every entry has textual content (the W3C validator warns otherwise): an entry
            # that says nothing but its title has that title as its summary.
            fe.summary(title, type="text")
        if item.link:
            fe.link(href=item.link)  # rebuilt by _AtomEntryExtension
        for tag in item.tags:
            if tag:
                fe.category(term=tag, label=tag)
        entry_extension = partial(_AtomEntryExtension, item, marks)
        fe.register_extension("feeds", entry_extension, atom=True, rss=False)

    body = cast(bytes, fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return split_items(body, len(items), b"</entry>", b"</feed>")


class _AtomFeedExtension(Extension):
    """The feed's updated date and fh:archive."""

    def __init__(self, updated: datetime, page: Page, marks: ItemMarks) -> None:
        self.updated = updated
        self.page = page
        self.marks = marks

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.page.is_archive else {}

    def extend_atom(self, feed: Any) -> Any:
        feed.find("updated").text = rfc3339(self.updated)
        if self.page.is_archive:
            position = index_after(feed, ("link",))
            feed.insert(position, element(f"{{{FH_NS}}}archive"))
        self.marks.start(feed)
        return feed


class _AtomEntryExtension(ItemExtension):
    """Rebuilds entry links (feedgen 1.0.0 drops rel/type/length), writes the dates, xml:lang
    and atom:source, and marks the entry."""

    def extend_atom(self, entry: Any) -> Any:
        item = self.item
        if item.language.strip():
            entry.set(f"{{{XML_NS}}}lang", item.language.strip())
        entry.find("updated").text = rfc3339(item.updated)
        entry.find("published").text = rfc3339(item.published)

        old_links = entry.findall("link")
        position = (
            list(entry).index(old_links[0]) if old_links else index_after(entry, ("updated",))
        )
        for link in old_links:
            entry.remove(link)
        links = []
        if item.link:
            links.append(element("link", attrs={"rel": "alternate", "href": item.link}))
        for enclosure in enclosures(item):  # the lead image last
            attrs = {"rel": "enclosure", "href": enclosure.url}
            attrs["type"] = enclosure.type or DEFAULT_MIME_TYPE
            attrs["length"] = str(max(enclosure.length, 0))
            links.append(element("link", attrs=attrs))
        for offset, link in enumerate(links):
            entry.insert(position + offset, link)

        if item.sources:
            upstream = item.sources[0]
            source = sub(entry, "source")
            sub(source, "id", upstream.url)
            sub(source, "title", upstream.title or upstream.url)
            sub(source, "link", attrs={"rel": "self", "href": upstream.url})
            sub(source, "updated", rfc3339(item.updated))
        self.marks.before_item()
        return entry
