"""Render a feed's items as RSS 2.0, Atom 1.0 and JSON Feed 1.1: pure and byte-stable.

This is the only module that imports feedgen. The same inputs always give the same bytes:
no "now" (the channel/feed dates come from the newest item), no locale, no dict-order surprises.

feedgen 1.0.0 writes the skeleton of both XML documents; what it gets wrong or lacks is written by
two small feedgen extensions defined here (``_Rss*``/``_Atom*``), which receive feedgen's lxml
elements while the document is being built:

- Atom entry links lose ``rel``/``type``/``length`` in feedgen 1.0.0 (upstream issues #135, #143),
  which turns enclosures into duplicate alternate links. Entry links are rebuilt here.
- feedgen's ``updated``/``lastBuildDate`` default to now, and its RFC 822 formatter calls
  ``locale.setlocale`` process-wide (unsafe with threads). Every date is set explicitly and
  formatted here with ``email.utils.format_datetime`` / ISO 8601; feedgen never formats an RSS
  date.
- The RSS channel ``<link>`` is whatever ``link()`` was called with last: the self link is
  registered first and the site's page last.
- The media extension wraps images in ``media:group`` and knows no caption or credit;
  ``media:content`` is written here. ``dc:creator``, ``content:encoded``, enclosures and
  sources (RSS and Atom) are written here too.

Text given to the XML documents is stripped of characters XML 1.0 does not allow (lxml would
raise on them) and of the C1 controls it discourages; the JSON Feed gets the same cleaned values
so all three formats agree.

A :class:`~feeds.types.Page` says which document is rendered: the current (subscription) document
or an RFC 5005 archive page, with its ``prev-archive``/``next-archive`` neighbours and a ttl.
RSS and Atom documents carry an ``xml-stylesheet`` processing instruction (added as a sibling of
the root element, so lxml serializes it right after the XML declaration).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from lxml import etree  # type: ignore[import-untyped]  # feedgen's own XML library

from feeds.errors import FeedsError
from feeds.ids import iri
from feeds.text import cut, is_xml_text, xml_text
from feeds.times import EPOCH, SY_PERIODS, rfc822, rfc3339, utc
from feeds.types import FeedSpec, Format, Image, Item, Page, Rendered, Site

__all__ = [
    "FORMATS",
    "GENERATOR",
    "STYLESHEET",
    "Renderer",
    "document_url",
    "feed_url",
    "render",
    "render_all",
    "syndication",
]

GENERATOR = "feeds"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
RSS_DOCS = "https://www.rssboard.org/rss-specification"

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
SY_NS = "http://purl.org/rss/1.0/modules/syndication/"
FH_NS = "http://purl.org/syndication/history/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"

FORMATS = (Format.RSS, Format.ATOM, Format.JSON)  # the order of render_all
CURRENT = Page()  # the current (subscription) document: the default page
STYLESHEET = "/static/feed.xsl"  # served by the web app; makes the XML readable in a browser

DEFAULT_MIME_TYPE = "application/octet-stream"

TITLE_FROM_TEXT_LENGTH = 80  # a title made from the summary, for formats that require one

_T = TypeVar("_T")


# --------------------------------------------------------------------------- public interface


def feed_url(site: Site, spec: FeedSpec, fmt: Format) -> str:
    """The public URL of one feed's current document in one format (self links and ids)."""
    return site.feed_url(spec.name, fmt.value)


def document_url(site: Site, spec: FeedSpec, fmt: Format, page: Page = CURRENT) -> str:
    """The public URL of one document: the current feed, or an archive page."""
    if page.is_archive:
        return site.archive_url(spec.name, page.number, fmt.value)
    return feed_url(site, spec, fmt)


def render(
    site: Site, spec: FeedSpec, items: Sequence[Item], fmt: Format, page: Page = CURRENT
) -> bytes:
    """Render ``items`` (merged, newest first) as one document in ``fmt``. Pure and byte-stable.

    ``page`` is the current document by default; an archive page (``page.number > 0``) is
    marked as such (RFC 5005) and links back to the current document.
    """
    return _Document(site, spec, items, page).render(fmt, {})[0]


def render_all(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page = CURRENT
) -> list[Rendered]:
    """Render one document of a feed in every format: RSS, Atom, JSON Feed (in that order)."""
    # The same bytes as render() for each format; the values are cleaned once for all three.
    return _Document(site, spec, items, page).render_all({})[0]


class Renderer:
    """``render_all`` with a memory: the bytes of every item of each feed's last current
    document are kept, and a rebuild renders only the items it has not seen (after one new
    entry, one item instead of fifty). The bytes are exactly those of ``render_all``.

    The memory holds one document per feed, is dropped when the site or the feed's settings
    change, and is not used for archive pages (each is rendered once).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[tuple[Site, FeedSpec], dict[Format, _Pieces]]] = {}

    def render_all(
        self, site: Site, spec: FeedSpec, items: Sequence[Item], page: Page = CURRENT
    ) -> list[Rendered]:
        if page.is_archive:
            return render_all(site, spec, items, page)
        document = _Document(site, spec, items, page)
        with self._lock:
            context, known = self._last.get(spec.name, (None, {}))
            rendered, kept = document.render_all(known if context == (site, spec) else {})
            self._last[spec.name] = ((site, spec), kept)
        return rendered


_Pieces = dict[Item, bytes]  # an item's bytes in one format's document

# Where the items are in a pretty-printed XML document: feedgen appends them after everything
# else in the channel (RSS) or feed (Atom), so they run from the first item's start tag (two
# levels deep: its indentation is fixed) to the closing tag of the channel or feed. Markup
# inside items is always escaped, so these byte strings cannot occur in an item's text.
_XML_ITEMS = {
    Format.RSS: (b"\n    <item>", b"\n  </channel>"),
    Format.ATOM: (b"\n  <entry", b"\n</feed>"),
}


class _Document:
    """One document of a feed being rendered: site, feed and items are cleaned once and
    shared by the formats."""

    def __init__(self, site: Site, spec: FeedSpec, items: Sequence[Item], page: Page) -> None:
        if page.number < 0:
            raise FeedsError(f"cannot render feed {spec.name!r}: page number {page.number} < 0")
        self.site, self.spec = _clean(site), _clean(spec)
        self.items = list(items)
        self.page = page
        self._cleaned: dict[Item, Item] = {}

    def _clean_item(self, item: Item) -> Item:
        cleaned = self._cleaned.get(item)
        if cleaned is None:
            cleaned = self._cleaned[item] = _with_iri_id(self.site, _clean(item))
        return cleaned

    def render_all(
        self, known: Mapping[Format, Mapping[Item, bytes]]
    ) -> tuple[list[Rendered], dict[Format, _Pieces]]:
        """Every format (see render), and each format's item pieces."""
        rendered, pieces = [], {}
        for fmt in FORMATS:
            body, pieces[fmt] = self.render(fmt, known.get(fmt, {}))
            rendered.append(Rendered(format=fmt, body=body))
        return rendered, pieces

    def render(self, fmt: Format, known: Mapping[Item, bytes]) -> tuple[bytes, _Pieces]:
        """The document in ``fmt`` and the bytes of each of its items; the items found in
        ``known`` are taken from there instead of being rendered again."""
        try:
            updated = _newest(self.items)
            missing = [item for item in dict.fromkeys(self.items) if item not in known]
            cleaned = [self._clean_item(item) for item in missing]
            if fmt is Format.JSON:
                head, fresh, tail = _json_parts(self.site, self.spec, cleaned, self.page)
            elif fmt is Format.RSS:
                body = _render_rss(self.site, self.spec, cleaned, self.page, updated)
                head, fresh, tail = _split_items(body, fmt, len(cleaned))
            elif fmt is Format.ATOM:
                body = _render_atom(self.site, self.spec, cleaned, self.page, updated)
                head, fresh, tail = _split_items(body, fmt, len(cleaned))
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
            items = b"[" + b",".join(ordered) + b"\n  ]" if ordered else b"[]"
            return head + items + tail, pieces
        return head + b"".join(ordered) + tail, pieces


def _split_items(body: bytes, fmt: Format, count: int) -> tuple[bytes, list[bytes], bytes]:
    """(everything before the items, each item's bytes, everything after) of an XML document
    with ``count`` items."""
    start_tag, end_tag = _XML_ITEMS[fmt]
    end = body.rfind(end_tag)
    start = body.find(start_tag) if count else end
    pieces = [start_tag + piece for piece in body[start:end].split(start_tag)[1:]]
    if end < 0 or start < 0 or len(pieces) != count:  # pragma: no cover - a feedgen change
        raise FeedsError(f"unexpected {fmt.value} document layout: cannot find its items")
    return body[:start], pieces, body[end:]


# --------------------------------------------------------------------------- values


def _clean_value(value: object) -> object:
    """The value with every string made safe for XML 1.0; the same object when nothing
    needed cleaning (the common case), so that nothing is copied for nothing."""
    if type(value) is str:  # not str enums such as ContentMode
        return value if is_xml_text(value) else xml_text(value)
    if isinstance(value, tuple):
        cleaned = tuple(_clean_value(v) for v in value)
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else cleaned
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _init_fields(type(value)):
            old = getattr(value, name)
            new = _clean_value(old)
            if new is not old:
                changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _clean(value: _T) -> _T:
    """A copy of a frozen dataclass with every string made safe for XML 1.0."""
    return cast(_T, _clean_value(value))


def _with_iri_id(site: Site, item: Item) -> Item:
    published_id = iri(site, item.id)
    return item if published_id == item.id else dataclasses.replace(item, id=published_id)


def _newest(items: Sequence[Item]) -> datetime:
    """When the feed last changed: the newest item update, or the epoch for an empty feed."""
    return max((utc(item.updated) for item in items), default=EPOCH)


def _feed_title(site: Site, spec: FeedSpec) -> str:
    return spec.title.strip() or site.title.strip() or spec.name


def _feed_description(site: Site, spec: FeedSpec) -> str:
    return spec.description.strip() or site.description.strip() or _feed_title(site, spec)


def _item_title(item: Item) -> str:
    """The title for formats that require one: the title, else an excerpt, link or id."""
    if item.title.strip():
        return item.title
    if item.summary.strip():
        return cut(" ".join(item.summary.split()), TITLE_FROM_TEXT_LENGTH)
    return item.link or item.id or "Untitled"


def _figure(image: Image) -> str:
    attrs = f'src="{html.escape(image.url)}" alt="{html.escape(image.caption)}"'
    if image.width:
        attrs += f' width="{image.width}"'
    if image.height:
        attrs += f' height="{image.height}"'
    caption = html.escape(image.caption, quote=False)
    if image.credit:
        credit = f"<small>{html.escape(image.credit, quote=False)}</small>"
        caption = f"{caption} {credit}" if caption else credit
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure><img {attrs} />{figcaption}</figure>"


def _content_html(item: Item) -> str:
    """The item's HTML, with its lead image (caption, credit) first unless already in it,
    and a credit line naming every source when the story came from several."""
    if not item.content:
        return ""
    image = item.image
    credits = _credits(item)
    if (
        image is None
        or not image.url
        or image.url in item.content
        or html.escape(image.url) in item.content
    ):
        return item.content + credits
    return _figure(image) + item.content + credits


def _credits(item: Item) -> str:
    """`<p>Reported by: A, B</p>` for a story merged from several sources, else ""."""
    if len(item.sources) < 2:
        return ""
    names = ", ".join(html.escape(s.title or s.url, quote=False) for s in item.sources)
    return f'<p class="feeds-sources">Reported by: {names}</p>'


def _summary_html(item: Item) -> str:
    """The plain-text dek as RSS <description> text: readers take that element as HTML, so
    text that merely looks like markup (`&lt;img onerror=…&gt;` once decoded) is escaped."""
    return html.escape(item.summary, quote=False)


# --------------------------------------------------------------------------- page, links, icons


def _ttl_minutes(page: Page) -> int | None:
    """The ttl in whole minutes (rounded down, at least 1), or None."""
    if page.ttl is None:
        return None
    return max(1, int(page.ttl.total_seconds()) // 60)


# sy:updatePeriod values and their length in minutes.
_SY_MINUTES = tuple((name, length // timedelta(minutes=1)) for name, length in SY_PERIODS)


def syndication(minutes: int) -> tuple[str, int]:
    """``(sy:updatePeriod, sy:updateFrequency)`` saying "every ``minutes``" as closely as possible.

    The shortest period that ``minutes`` divides evenly, so the frequency is exact (15 min ->
    hourly ×4, 2 h -> daily ×12, 7 min -> weekly ×1440); when none does, the shortest period at
    least ``minutes`` long with the frequency rounded down (13 min -> hourly ×4); the frequency
    is always a whole number >= 1.
    """
    minutes = max(1, minutes)
    for name, length in _SY_MINUTES:
        if minutes <= length and length % minutes == 0:
            return name, length // minutes
    for name, length in _SY_MINUTES:
        if minutes <= length:
            return name, max(1, length // minutes)
    return "yearly", 1


def _logo(site: Site) -> str:
    """The wide image (RSS <image>, Atom <logo>): the logo, else the icon."""
    return site.logo or site.icon


def _icon(site: Site) -> str:
    """The square image (Atom <icon>, JSON Feed icon/favicon): the icon, else the logo."""
    return site.icon or site.logo


def _channel_link(site: Site) -> str:
    return site.link or site.base_url


def _history_links(site: Site, spec: FeedSpec, fmt: Format, page: Page) -> list[tuple[str, str]]:
    """``(rel, href)`` of the WebSub and RFC 5005 links after the self link, in that order."""
    links: list[tuple[str, str]] = []
    if page.is_archive:
        links.append(("current", feed_url(site, spec, fmt)))
    elif site.hub:
        links.append(("hub", site.hub))
    if page.prev_archive is not None:
        links.append(("prev-archive", site.archive_url(spec.name, page.prev_archive, fmt.value)))
    if page.is_archive and page.next_archive is not None:
        links.append(("next-archive", site.archive_url(spec.name, page.next_archive, fmt.value)))
    return links


def _add_stylesheet(root: Any) -> None:
    """``<?xml-stylesheet?>`` before the root element (lxml writes it after the declaration)."""
    root.addprevious(
        etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{STYLESHEET}"')
    )


# --------------------------------------------------------------------------- lxml helpers


def _element(tag: str, text: str | None = None, attrs: dict[str, str] | None = None) -> Any:
    el = xml_elem(tag)
    for name, value in (attrs or {}).items():
        el.set(name, value)
    if text is not None:
        el.text = text
    return el


def _sub(
    parent: Any, tag: str, text: str | None = None, attrs: dict[str, str] | None = None
) -> Any:
    el = _element(tag, text, attrs)
    parent.append(el)
    return el


def _index_after(parent: Any, tags: Sequence[str]) -> int:
    """The position just after the last child named in ``tags`` (0 when there is none)."""
    index = 0
    for i, child in enumerate(parent):
        if child.tag in tags:
            index = i + 1
    return index


# --------------------------------------------------------------------------- RSS 2.0


class _RssChannelExtension:
    """Namespaces at the root; lastBuildDate, history/hub links, ttl, sy:*, fh:archive."""

    def __init__(
        self,
        last_build: datetime,
        links: Sequence[tuple[str, str]],
        page: Page,
    ) -> None:
        self.last_build = last_build
        self.links = links
        self.page = page
        self.ttl = _ttl_minutes(page)

    def extend_ns(self) -> dict[str, str]:
        ns = {"dc": DC_NS, "media": MEDIA_NS}
        if self.ttl is not None:
            ns["sy"] = SY_NS
        if self.page.is_archive:
            ns["fh"] = FH_NS
        return ns

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        position = _index_after(channel, (f"{{{ATOM_NS}}}link",))
        for offset, (rel, href) in enumerate(self.links):
            link = _element(f"{{{ATOM_NS}}}link", attrs={"href": href, "rel": rel})
            channel.insert(position + offset, link)
        _sub(channel, "lastBuildDate", rfc822(self.last_build))
        if self.ttl is not None:
            _sub(channel, "ttl", str(self.ttl))
            period, frequency = syndication(self.ttl)
            # Written here: feedgen's syndication extension gets the case of the values wrong.
            _sub(channel, f"{{{SY_NS}}}updatePeriod", period)
            _sub(channel, f"{{{SY_NS}}}updateFrequency", str(frequency))
        if self.page.is_archive:
            _sub(channel, f"{{{FH_NS}}}archive")
        _add_stylesheet(rss)
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _RssItemExtension:
    """What feedgen 1.0.0 cannot write for an RSS item (or writes wrongly)."""

    def __init__(self, item: Item) -> None:
        self.item = item

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: Any) -> Any:
        return entry

    def extend_rss(self, el: Any) -> Any:
        item = self.item
        content = _content_html(item)
        if content:
            # Written here rather than by feedgen, which moves content into <description>
            # when the item has no summary.
            position = _index_after(el, ("title", "link", "description"))
            el.insert(position, _element(f"{{{CONTENT_NS}}}encoded", content))
        for name in item.authors:
            if name.strip():
                # Never <author>: RSS wants an e-mail address there.
                _sub(el, f"{{{DC_NS}}}creator", name)
        if item.language.strip():
            _sub(el, f"{{{DC_NS}}}language", item.language.strip())
        _sub(el, "pubDate", rfc822(item.published))
        if item.enclosures:  # RSS allows one enclosure per item
            enclosure = item.enclosures[0]
            _sub(
                el,
                "enclosure",
                attrs={
                    "url": enclosure.url,
                    "length": str(max(enclosure.length, 0)),
                    "type": enclosure.type or DEFAULT_MIME_TYPE,
                },
            )
        if item.image is not None and item.image.url:
            self._media_content(el, item.image, _item_title(item))
        if item.sources:
            source = item.sources[0]
            _sub(el, "source", source.title or source.url, {"url": source.url})
        return el

    @staticmethod
    def _media_content(el: Any, image: Image, title: str) -> None:
        attrs = {"url": image.url, "medium": "image"}
        if image.type:
            attrs["type"] = image.type
        if image.width:
            attrs["width"] = str(image.width)
        if image.height:
            attrs["height"] = str(image.height)
        media = _sub(el, f"{{{MEDIA_NS}}}content", attrs=attrs)  # not in a media:group
        _sub(media, f"{{{MEDIA_NS}}}title", title, {"type": "plain"})
        if image.caption:
            _sub(media, f"{{{MEDIA_NS}}}description", image.caption, {"type": "plain"})
        if image.credit:
            _sub(
                media,
                f"{{{MEDIA_NS}}}credit",
                image.credit,
                {"role": "photographer", "scheme": "urn:ebu"},
            )


def _no_feedgen_last_build_date(fg: Any) -> None:
    """Unset feedgen's lastBuildDate (it defaults to now, and formatting it calls setlocale)."""
    attribute = "_FeedGenerator__rss_lastBuildDate"
    if not hasattr(fg, attribute):  # pragma: no cover - a feedgen other than 1.0.0
        raise FeedsError("unsupported feedgen version: cannot unset lastBuildDate")
    setattr(fg, attribute, None)


def _render_rss(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page, updated: datetime
) -> bytes:
    """The RSS document with ``items``; ``updated`` is the newest change of the feed."""
    title = _feed_title(site, spec)
    channel_link = _channel_link(site)
    fg = FeedGenerator()
    extension = partial(
        _RssChannelExtension, updated, _history_links(site, spec, Format.RSS, page), page
    )
    fg.register_extension("feeds", extension, None, atom=False, rss=True)
    fg.title(title)
    fg.link(href=document_url(site, spec, Format.RSS, page), rel="self", type="application/rss+xml")
    # Last, because feedgen's RSS <link> is the href of the last link() call.
    fg.link(href=channel_link, rel="alternate")
    fg.description(_feed_description(site, spec))
    if site.language:
        fg.language(site.language)
    if site.copyright:
        fg.copyright(site.copyright)
    fg.generator(GENERATOR)
    fg.docs(RSS_DOCS)
    if _logo(site):
        # RSS wants the image's title and link to be the channel's own.
        fg.image(url=_logo(site), title=title, link=channel_link)
    _no_feedgen_last_build_date(fg)

    for item in items:
        fe = fg.add_entry(order="append")
        fe.title(_item_title(item))
        if item.link:
            fe.link(href=item.link)
        fe.guid(item.id, permalink=bool(item.link) and item.id == item.link)
        if item.summary:
            fe.description(_summary_html(item))
        for tag in item.tags:
            if tag:
                fe.category(term=tag)
        # No fe.published(): feedgen would format pubDate through setlocale.
        fe.register_extension("feeds", partial(_RssItemExtension, item), atom=False, rss=True)

    return cast(bytes, fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))


# --------------------------------------------------------------------------- Atom 1.0
# feedgen builds Atom elements without a namespace (the root carries a literal xmlns
# attribute), so the elements added here are un-namespaced too.


class _AtomFeedExtension:
    def __init__(self, updated: datetime, page: Page) -> None:
        self.updated = updated
        self.page = page

    def extend_ns(self) -> dict[str, str]:
        return {"fh": FH_NS} if self.page.is_archive else {}

    def extend_rss(self, rss: Any) -> Any:
        return rss

    def extend_atom(self, feed: Any) -> Any:
        feed.find("updated").text = rfc3339(self.updated)
        if self.page.is_archive:
            position = _index_after(feed, ("link",))
            feed.insert(position, _element(f"{{{FH_NS}}}archive"))
        _add_stylesheet(feed)
        return feed


class _AtomEntryExtension:
    """Rebuilds entry links (feedgen 1.0.0 drops rel/type/length) and writes atom:source."""

    def __init__(self, item: Item) -> None:
        self.item = item

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, el: Any) -> Any:
        return el

    def extend_atom(self, entry: Any) -> Any:
        item = self.item
        if item.language.strip():
            entry.set(f"{{{XML_NS}}}lang", item.language.strip())
        entry.find("updated").text = rfc3339(item.updated)
        entry.find("published").text = rfc3339(item.published)

        old_links = entry.findall("link")
        position = (
            list(entry).index(old_links[0]) if old_links else _index_after(entry, ("updated",))
        )
        for link in old_links:
            entry.remove(link)
        links = []
        if item.link:
            links.append(_element("link", attrs={"rel": "alternate", "href": item.link}))
        for enclosure in item.enclosures:
            attrs = {"rel": "enclosure", "href": enclosure.url}
            attrs["type"] = enclosure.type or DEFAULT_MIME_TYPE
            attrs["length"] = str(max(enclosure.length, 0))
            links.append(_element("link", attrs=attrs))
        for offset, link in enumerate(links):
            entry.insert(position + offset, link)

        if item.sources:
            upstream = item.sources[0]
            source = _sub(entry, "source")
            _sub(source, "id", upstream.url)
            _sub(source, "title", upstream.title or upstream.url)
            _sub(source, "link", attrs={"rel": "self", "href": upstream.url})
            _sub(source, "updated", rfc3339(item.updated))
        return entry


def _render_atom(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page, updated: datetime
) -> bytes:
    """The Atom document with ``items``; ``updated`` is the newest change of the feed."""
    fg = FeedGenerator()
    fg.register_extension(
        "feeds", partial(_AtomFeedExtension, updated, page), None, atom=True, rss=False
    )
    # The same id on every page: archive pages are documents of the same logical feed.
    fg.id(feed_url(site, spec, Format.ATOM))
    fg.title(_feed_title(site, spec))
    fg.subtitle(_feed_description(site, spec))
    fg.updated(updated)
    fg.link(href=_channel_link(site), rel="alternate", type="text/html")
    fg.link(
        href=document_url(site, spec, Format.ATOM, page), rel="self", type="application/atom+xml"
    )
    for rel, href in _history_links(site, spec, Format.ATOM, page):
        if rel == "hub":
            fg.link(href=href, rel=rel)
        else:
            fg.link(href=href, rel=rel, type="application/atom+xml")
    # Always a feed author: Atom requires one for every entry, and entries may have none.
    publisher = site.title or urlsplit(_channel_link(site)).hostname or _feed_title(site, spec)
    fg.author({"name": publisher, "uri": site.link} if site.link else {"name": publisher})
    if site.copyright:
        fg.rights(site.copyright)
    fg.generator(GENERATOR)
    if _icon(site):
        fg.icon(_icon(site))
    if _logo(site):
        fg.logo(_logo(site))
    if site.language:
        fg.language(site.language)  # xml:lang on <feed>

    for item in items:
        fe = fg.add_entry(order="append")
        title = _item_title(item)
        fe.id(item.id)
        fe.title(title)
        fe.updated(utc(item.updated))
        fe.published(utc(item.published))  # Atom dates are isoformat, not setlocale
        for name in item.authors:
            if name.strip():
                fe.author(name=name)
        content = _content_html(item)
        if content:
            fe.content(content, type="html")
        elif not item.link:
            # Atom requires content or an alternate link.
            fe.content(item.summary or title, type="text")
        if item.summary:
            fe.summary(item.summary, type="text")
        if item.link:
            fe.link(href=item.link)  # rebuilt by _AtomEntryExtension
        for tag in item.tags:
            if tag:
                fe.category(term=tag, label=tag)
        fe.register_extension("feeds", partial(_AtomEntryExtension, item), atom=True, rss=False)

    return cast(bytes, fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True))


# --------------------------------------------------------------------------- JSON Feed 1.1


def _json_item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id}
    if item.link:
        out["url"] = item.link
    if item.title:
        out["title"] = item.title
    content = _content_html(item)
    if content:
        out["content_html"] = content
    else:
        out["content_text"] = item.summary or _item_title(item)
    if item.summary:
        out["summary"] = item.summary
    if item.image is not None and item.image.url:
        out["image"] = item.image.url
    out["date_published"] = rfc3339(item.published)
    out["date_modified"] = rfc3339(item.updated)
    authors = [{"name": name} for name in item.authors if name.strip()]
    if authors:
        out["authors"] = authors
    tags = [tag for tag in item.tags if tag]
    if tags:
        out["tags"] = tags
    if item.language.strip():
        out["language"] = item.language.strip()
    if item.enclosures:
        attachments = []
        for enclosure in item.enclosures:
            attachment: dict[str, Any] = {
                "url": enclosure.url,
                "mime_type": enclosure.type or DEFAULT_MIME_TYPE,
            }
            if enclosure.length > 0:
                attachment["size_in_bytes"] = enclosure.length
            attachments.append(attachment)
        out["attachments"] = attachments
    if item.sources:
        source = item.sources[0]
        out["_source"] = {"title": source.title or source.url, "url": source.url}
        if len(item.sources) > 1:  # a story merged from several sources credits each
            out["_sources"] = [{"title": s.title or s.url, "url": s.url} for s in item.sources]
    return out


def _json_parts(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page
) -> tuple[bytes, list[bytes], bytes]:
    """(the document up to its items array, each item's bytes, what follows the array).

    The same bytes as ``json.dumps(document, indent=2)``: an item is dumped on its own and
    indented two levels (JSON strings hold no raw line breaks, so every line break in an
    item's text is one of its own layout).
    """
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": _feed_title(site, spec),
        "home_page_url": _channel_link(site),
        # The current feed's URL on archive pages too: that is what to subscribe to.
        "feed_url": feed_url(site, spec, Format.JSON),
        "description": _feed_description(site, spec),
    }
    if page.prev_archive is not None:  # JSON Feed pagination: next_url is the older page
        doc["next_url"] = site.archive_url(spec.name, page.prev_archive, Format.JSON.value)
    if _icon(site):
        doc["icon"] = _icon(site)
        doc["favicon"] = _icon(site)
    if site.language:
        doc["language"] = site.language
    if site.title:
        author: dict[str, str] = {"name": site.title}
        if site.link:
            author["url"] = site.link
        doc["authors"] = [author]
    if site.hub and not page.is_archive:
        doc["hubs"] = [{"type": "WebSub", "url": site.hub}]
    if page.is_archive:
        doc["_archive"] = {"current": feed_url(site, spec, Format.JSON), "page": page.number}
    doc["items"] = []
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    head, empty, tail = text.rpartition('"items": []')
    if not empty or tail != "\n}":  # pragma: no cover - "items" is the last member
        raise FeedsError("unexpected JSON Feed layout: cannot find its items")
    pieces = [
        ("\n" + json.dumps(_json_item(item), ensure_ascii=False, indent=2))
        .replace("\n", "\n    ")
        .encode("utf-8")
        for item in items
    ]
    return f'{head}"items": '.encode(), pieces, b"\n}\n"
