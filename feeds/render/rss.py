"""RSS 2.0: feedgen writes the skeleton, two feedgen extensions the rest.

feedgen 1.0.0 gets some of RSS wrong or lacks it; the extensions defined here receive its lxml
elements while the document is being built and write:

- every date, formatted with ``email.utils.format_datetime`` (``feeds.times.rfc822``): feedgen's
  lastBuildDate defaults to now, and its RFC 822 formatter calls ``locale.setlocale`` process-wide
  (unsafe with threads). feedgen is given a lastBuildDate it does not write (see ``_Unwritten``)
  and never a pubDate. The channel's pubDate and lastBuildDate are both the newest change of the
  feed; an item's ``dcterms:modified`` (ISO 8601, as Dublin Core writes dates) is the time of its
  last correction, beside its ``pubDate``: what Microsoft's feed readers and ingestion (MSN) read
  as an RSS item's modified date, as they read Atom's ``updated``;
- the history and hub links after the self link (``atom:link``), ttl and ``sy:*`` (feedgen's
  syndication extension gets the case of the values wrong), and ``fh:archive`` on archive pages;
- ``content:encoded`` (feedgen moves content into ``<description>`` when an item has no
  summary; every item is given a ``<description>``, its dek or else its title, so
  ``content:encoded`` always follows one), ``dc:creator`` (never ``<author>``, which wants an
  e-mail address), ``dc:language``, ``media:content`` with its caption and credit (feedgen's
  media extension wraps images in ``media:group`` and knows neither) and ``media:thumbnail``
  for the lead image, the one enclosure (``common.rss_enclosure``: a podcast's episode, else
  the lead image), and the source. The image comes before the enclosure, so that a reader
  taking the first image of an item gets the one with a caption.

The channel ``<link>`` is whatever ``link()`` was called with last: the self link is registered
first and the site's page last.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

from feedgen.feed import FeedGenerator

from feeds.errors import FeedsError
from feeds.render.common import (
    DEFAULT_MIME_TYPE,
    GENERATOR,
    channel_link,
    content_html,
    description_html,
    document_url,
    feed_description,
    feed_title,
    history_links,
    item_title,
    lead_image,
    logo,
    rss_enclosure,
    syndication,
    ttl_minutes,
)
from feeds.render.marks import ItemMarks, split_items
from feeds.render.tree import (
    ATOM_NS,
    CONTENT_NS,
    DC_NS,
    DCTERMS_NS,
    FH_NS,
    MEDIA_NS,
    SY_NS,
    Extension,
    ItemExtension,
    element,
    index_after,
    sub,
)
from feeds.times import rfc822, rfc3339
from feeds.types import FeedSpec, Format, Image, Item, Page, Site

__all__ = ["render_rss"]

RSS_DOCS = "https://www.rssboard.org/rss-specification"


class _Unwritten(datetime):
    """A date feedgen accepts and does not write.

    feedgen's ``lastBuildDate()`` takes any timezone-aware datetime, and its RSS writer (1.0.0,
    ``FeedGenerator._create_rss``: ``if self.__rss_lastBuildDate:``) writes the element only
    when the value is true; this one is false. Without it feedgen would write the time of
    rendering, formatted through ``locale.setlocale``. Should a later feedgen write it anyway,
    ``_RssChannelExtension`` raises rather than publish a second date.
    """

    def __bool__(self) -> bool:
        return False


_NOT_WRITTEN = _Unwritten(1970, 1, 1, tzinfo=UTC)


def render_rss(
    site: Site, spec: FeedSpec, items: Sequence[Item], page: Page, updated: datetime
) -> tuple[bytes, list[bytes], bytes]:
    """The RSS document with ``items`` (cleaned) as ``(head, pieces, tail)`` (see
    ``marks.split_items``); ``updated`` is the newest change of the feed."""
    title = feed_title(site, spec)
    home = channel_link(site)
    marks = ItemMarks()
    fg = FeedGenerator()
    links = history_links(site, spec, Format.RSS, page)
    extension = partial(_RssChannelExtension, updated, links, page, marks)
    fg.register_extension("feeds", extension, None, atom=False, rss=True)
    fg.title(title)
    fg.link(href=document_url(site, spec, Format.RSS, page), rel="self", type="application/rss+xml")
    # Last, because feedgen's RSS <link> is the href of the last link() call.
    fg.link(href=home, rel="alternate")
    fg.description(feed_description(site, spec))
    if site.language:
        fg.language(site.language)
    if site.copyright:
        fg.copyright(site.copyright)
    fg.generator(GENERATOR)
    fg.docs(RSS_DOCS)
    if logo(site):
        # RSS wants the image's title and link to be the channel's own.
        fg.image(url=logo(site), title=title, link=home)
    fg.lastBuildDate(_NOT_WRITTEN)  # written by _RssChannelExtension

    for item in items:
        fe = fg.add_entry(order="append")
        fe.title(item_title(item))
        if item.link:
            fe.link(href=item.link)
        # A permalink only when the id is the link as published: an IRI link is published
        # percent-encoded while its id stays as it was, so that guid is not a permalink.
        fe.guid(item.id, permalink=bool(item.link) and item.id == item.link)
        fe.description(description_html(item))  # always, before content:encoded
        for tag in item.tags:
            if tag:
                fe.category(term=tag)
        # No fe.published(): feedgen would format pubDate through setlocale.
        fe.register_extension(
            "feeds", partial(_RssItemExtension, item, marks), atom=False, rss=True
        )

    body = cast(bytes, fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True))
    return split_items(body, len(items), b"</item>", b"</channel>")


class _RssChannelExtension(Extension):
    """Namespaces at the root; lastBuildDate, history/hub links, ttl, sy:*, fh:archive."""

    def __init__(
        self,
        last_build: datetime,
        links: Sequence[tuple[str, str]],
        page: Page,
        marks: ItemMarks,
    ) -> None:
        self.last_build = last_build
        self.links = links
        self.page = page
        self.ttl = ttl_minutes(page)
        self.marks = marks

    def extend_ns(self) -> dict[str, str]:
        ns = {"dc": DC_NS, "dcterms": DCTERMS_NS, "media": MEDIA_NS}
        if self.ttl is not None:
            ns["sy"] = SY_NS
        if self.page.is_archive:
            ns["fh"] = FH_NS
        return ns

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        if channel.find("lastBuildDate") is not None:  # pragma: no cover - a feedgen change
            raise FeedsError("unsupported feedgen version: it wrote a lastBuildDate of its own")
        position = index_after(channel, (f"{{{ATOM_NS}}}link",))
        for offset, (rel, href) in enumerate(self.links):
            link = element(f"{{{ATOM_NS}}}link", attrs={"href": href, "rel": rel})
            channel.insert(position + offset, link)
        sub(channel, "pubDate", rfc822(self.last_build))
        sub(channel, "lastBuildDate", rfc822(self.last_build))
        if self.ttl is not None:
            sub(channel, "ttl", str(self.ttl))
            period, frequency = syndication(self.ttl)
            sub(channel, f"{{{SY_NS}}}updatePeriod", period)
            sub(channel, f"{{{SY_NS}}}updateFrequency", str(frequency))
        if self.page.is_archive:
            sub(channel, f"{{{FH_NS}}}archive")
        self.marks.start(channel)
        return rss


class _RssItemExtension(ItemExtension):
    """What feedgen 1.0.0 cannot write for an RSS item (or writes wrongly), and its mark."""

    def extend_rss(self, el: Any) -> Any:
        item = self.item
        content = content_html(item)
        if content:
            position = index_after(el, ("title", "link", "description"))
            el.insert(position, element(f"{{{CONTENT_NS}}}encoded", content))
        for name in item.authors:
            if name.strip():
                sub(el, f"{{{DC_NS}}}creator", name)
        if item.language.strip():
            sub(el, f"{{{DC_NS}}}language", item.language.strip())
        sub(el, "pubDate", rfc822(item.published))
        sub(el, f"{{{DCTERMS_NS}}}modified", rfc3339(item.updated))
        image = lead_image(item)
        if image is not None:
            _media_content(el, image, item_title(item))
            sub(el, f"{{{MEDIA_NS}}}thumbnail", attrs=_sized({"url": image.url}, image))
        enclosure = rss_enclosure(item)  # RSS allows one enclosure per item
        if enclosure is not None:
            attrs = {
                "url": enclosure.url,
                "length": str(max(enclosure.length, 0)),
                "type": enclosure.type or DEFAULT_MIME_TYPE,
            }
            sub(el, "enclosure", attrs=attrs)
        if item.sources:
            source = item.sources[0]
            sub(el, "source", source.title or source.url, {"url": source.url})
        self.marks.before_item()
        return el


def _media_content(el: Any, image: Image, title: str) -> None:
    """``media:content`` (not in a ``media:group``) with the image's title, caption, credit."""
    attrs = {"url": image.url, "medium": "image"}
    if image.type:
        attrs["type"] = image.type
    media = sub(el, f"{{{MEDIA_NS}}}content", attrs=_sized(attrs, image))
    sub(media, f"{{{MEDIA_NS}}}title", title, {"type": "plain"})
    if image.caption:
        sub(media, f"{{{MEDIA_NS}}}description", image.caption, {"type": "plain"})
    if image.credit:
        credit = {"role": "photographer", "scheme": "urn:ebu"}
        sub(media, f"{{{MEDIA_NS}}}credit", image.credit, credit)


def _sized(attrs: dict[str, str], image: Image) -> dict[str, str]:
    """``attrs`` with the image's width and height, when known."""
    if image.width:
        attrs["width"] = str(image.width)
    if image.height:
        attrs["height"] = str(image.height)
    return attrs
