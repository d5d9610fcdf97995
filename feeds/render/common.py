"""What every format says the same way: titles, descriptions, item HTML, links and images.

Pure functions of the (cleaned) site, feed, page and items; no library. The formats differ in
the elements they put these values in, never in the values.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import unquote

from feeds.text import TITLE_FROM_TEXT_LENGTH, UNTITLED, collapse, cut
from feeds.times import EPOCH, SY_PERIODS, utc
from feeds.types import Enclosure, FeedSpec, Format, Image, Item, Page, Site
from feeds.urls import image_type

__all__ = [
    "CURRENT",
    "DEFAULT_MIME_TYPE",
    "FORMATS",
    "GENERATOR",
    "channel_link",
    "content_html",
    "description_html",
    "document_url",
    "enclosures",
    "feed_description",
    "feed_title",
    "feed_url",
    "history_links",
    "icon",
    "item_title",
    "lead_image",
    "logo",
    "newest",
    "rss_enclosure",
    "syndication",
    "ttl_minutes",
]

GENERATOR = "feeds"
FORMATS = (Format.RSS, Format.ATOM, Format.JSON)  # the order of render_all
CURRENT = Page()  # the current (subscription) document: the default page

DEFAULT_MIME_TYPE = "application/octet-stream"


# --------------------------------------------------------------------------- URLs


def feed_url(site: Site, spec: FeedSpec, fmt: Format) -> str:
    """The public URL of one feed's current document in one format (self links and ids)."""
    return site.feed_url(spec.name, fmt.value)


def document_url(site: Site, spec: FeedSpec, fmt: Format, page: Page = CURRENT) -> str:
    """The public URL of one document: the current feed, or an archive page."""
    if page.is_archive:
        return site.archive_url(spec.name, page.number, fmt.value)
    return feed_url(site, spec, fmt)


def channel_link(site: Site) -> str:
    """The site's page: the RSS channel link, the Atom alternate link, JSON home_page_url."""
    return site.link or site.base_url


def history_links(site: Site, spec: FeedSpec, fmt: Format, page: Page) -> list[tuple[str, str]]:
    """``(rel, href)`` of the WebSub and RFC 5005 links after the self link, in that order:
    ``current`` (archive pages) or ``hub`` (the current document, when the site has one), then
    ``prev-archive`` and, on archive pages, ``next-archive``."""
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


def logo(site: Site) -> str:
    """The wide image (RSS <image>, Atom <logo>): the logo, else the icon."""
    return site.logo or site.icon


def icon(site: Site) -> str:
    """The square image (Atom <icon>, JSON Feed icon/favicon): the icon, else the logo."""
    return site.icon or site.logo


# --------------------------------------------------------------------------- feed


def feed_title(site: Site, spec: FeedSpec) -> str:
    return spec.title.strip() or site.title.strip() or spec.name


def feed_description(site: Site, spec: FeedSpec) -> str:
    return spec.description.strip() or site.description.strip() or feed_title(site, spec)


def newest(items: Sequence[Item]) -> datetime:
    """When the feed last changed: the newest item update, or the epoch for an empty feed."""
    return max((utc(item.updated) for item in items), default=EPOCH)


def ttl_minutes(page: Page) -> int | None:
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


# --------------------------------------------------------------------------- items


def item_title(item: Item) -> str:
    """The title for formats that require one: the title, else an excerpt, link or id."""
    if item.title.strip():
        return item.title
    if item.summary.strip():
        return cut(collapse(item.summary), TITLE_FROM_TEXT_LENGTH)
    return item.link or item.id or UNTITLED


def lead_image(item: Item) -> Image | None:
    """The item's lead image, when it has one with a URL."""
    return item.image if item.image is not None and item.image.url else None


def enclosures(item: Item) -> list[Enclosure]:
    """What Atom publishes as enclosure links (JSON Feed: the attachments, then ``image``):
    the item's own enclosures, then its lead image unless one of them is that image.

    The image's size in bytes is not known: its length is 0, which the RSS Advisory Board's
    profile asks for when the size cannot be determined. Its type is the image's own, else
    what its file name says, else ``application/octet-stream``.
    """
    found = list(item.enclosures)
    image = lead_image(item)
    if image is not None and all(e.url != image.url for e in found):
        kind = image.type or image_type(image.url) or DEFAULT_MIME_TYPE
        found.append(Enclosure(url=image.url, type=kind, length=0))
    return found


def rss_enclosure(item: Item) -> Enclosure | None:
    """The one enclosure RSS allows an item: its first media enclosure (audio, video, a
    document: what a podcast app downloads) when it has one, else its lead image (which is
    in ``media:content`` and ``media:thumbnail`` either way), else its first enclosure."""
    every = enclosures(item)
    image = lead_image(item)
    image_url = image.url if image is not None else None
    media = [e for e in every if not e.type.startswith("image/") and e.url != image_url]
    if media:
        return media[0]
    if image is not None:
        return next(e for e in every if e.url == image.url)
    return every[0] if every else None


def content_html(item: Item) -> str:
    """The item's HTML, with its lead image (caption, credit) first unless already in it,
    and a credit line naming every source when the story came from several."""
    if not item.content:
        return ""
    image = item.image
    credits = _credits(item)
    if image is None or not image.url or _mentions(item.content, image.url):
        return item.content + credits
    return _figure(image) + item.content + credits


def _mentions(content: str, url: str) -> bool:
    """Whether ``content`` holds ``url`` (a published URI), as it is or as it was stored: the
    HTML keeps URLs as they came, and ``url`` may have been percent-encoded since."""
    if url in content or html.escape(url) in content:
        return True
    stored = unquote(url)
    return stored != url and (stored in content or html.escape(stored) in content)


def description_html(item: Item) -> str:
    """The RSS <description>: the plain-text dek, else the title (``item_title``), so that
    every item has one, before its ``content:encoded`` (the W3C validator warns otherwise). An
    item without a dek has no text but its title: a summary-only feed of a title-only source,
    or an upstream entry that said nothing more. Readers take the element as HTML, so text
    that merely looks like markup (`&lt;img onerror=…&gt;` once decoded) is escaped."""
    return html.escape(item.summary or item_title(item), quote=False)


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


def _credits(item: Item) -> str:
    """`<p>Reported by: A, B</p>` for a story merged from several sources, else ""."""
    if len(item.sources) < 2:
        return ""
    names = ", ".join(html.escape(s.title or s.url, quote=False) for s in item.sources)
    return f'<p class="feeds-sources">Reported by: {names}</p>'
