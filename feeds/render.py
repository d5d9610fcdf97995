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
raise on them); the JSON Feed gets the same cleaned values so all three formats agree.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import partial
from typing import Any, TypeVar, cast

from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from feeds.errors import FeedsError
from feeds.types import FeedSpec, Format, Image, Item, Rendered, Site

__all__ = ["GENERATOR", "feed_url", "render", "render_all"]

GENERATOR = "feeds"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
RSS_DOCS = "https://www.rssboard.org/rss-specification"

CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_NS = "http://search.yahoo.com/mrss/"

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_MIME_TYPE = "application/octet-stream"

# Characters XML 1.0 allows: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# Everything else (C0 controls, lone surrogates, U+FFFE/U+FFFF) is removed.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")

_T = TypeVar("_T")


# --------------------------------------------------------------------------- public interface


def feed_url(site: Site, spec: FeedSpec, fmt: Format) -> str:
    """The public URL of one feed in one format (used for self links and ids)."""
    return site.feed_url(spec.name, fmt.value)


def render(site: Site, spec: FeedSpec, items: Sequence[Item], fmt: Format) -> bytes:
    """Render ``items`` (merged, newest first) as one document in ``fmt``. Pure and byte-stable."""
    site, spec = _clean(site), _clean(spec)
    cleaned = [_clean(item) for item in items]
    try:
        if fmt is Format.RSS:
            return _render_rss(site, spec, cleaned)
        if fmt is Format.ATOM:
            return _render_atom(site, spec, cleaned)
        if fmt is Format.JSON:
            return _render_json(site, spec, cleaned)
    except (ValueError, TypeError) as e:  # what feedgen and lxml raise on bad values
        raise FeedsError(f"cannot render feed {spec.name!r} as {fmt.value}: {e}") from e
    raise FeedsError(f"unknown feed format {fmt!r}")


def render_all(site: Site, spec: FeedSpec, items: Sequence[Item]) -> list[Rendered]:
    """Render one feed in every format: RSS, Atom, JSON Feed (in that order)."""
    return [
        Rendered(format=fmt, body=render(site, spec, items, fmt))
        for fmt in (Format.RSS, Format.ATOM, Format.JSON)
    ]


# --------------------------------------------------------------------------- values


def _xml_text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value)


def _clean_value(value: object) -> object:
    if type(value) is str:  # not str enums such as ContentMode
        return _xml_text(value)
    if isinstance(value, tuple):
        return tuple(_clean_value(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _clean_value(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    return value


def _clean(value: _T) -> _T:
    """A copy of a frozen dataclass with every string made safe for XML 1.0."""
    return cast(_T, _clean_value(value))


def _utc(dt: datetime) -> datetime:
    """UTC, whole seconds. A naive datetime is taken as UTC (never as local time)."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.replace(microsecond=0)


def _rfc822(dt: datetime) -> str:
    """RSS dates, e.g. ``Wed, 01 May 2024 10:00:00 GMT``; locale-independent."""
    return format_datetime(_utc(dt), usegmt=True)


def _rfc3339(dt: datetime) -> str:
    """Atom and JSON Feed dates, e.g. ``2024-05-01T10:00:00Z``."""
    return _utc(dt).isoformat().replace("+00:00", "Z")


def _newest(items: Sequence[Item]) -> datetime:
    """When the feed last changed: the newest item update, or the epoch for an empty feed."""
    return max((_utc(item.updated) for item in items), default=EPOCH)


def _feed_title(site: Site, spec: FeedSpec) -> str:
    return spec.title.strip() or site.title.strip() or spec.name


def _feed_description(site: Site, spec: FeedSpec) -> str:
    return spec.description.strip() or site.description.strip() or _feed_title(site, spec)


def _excerpt(text: str, limit: int = 80) -> str:
    text = _SPACES.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
    return cut.rstrip(" ,;:.") + "…"


def _item_title(item: Item) -> str:
    """The title for formats that require one: the title, else an excerpt, link or id."""
    if item.title.strip():
        return item.title
    if item.summary.strip():
        return _excerpt(item.summary)
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
    """The item's HTML, with its lead image (caption, credit) first unless already in it."""
    if not item.content:
        return ""
    image = item.image
    if (
        image is None
        or not image.url
        or image.url in item.content
        or html.escape(image.url) in item.content
    ):
        return item.content
    return _figure(image) + item.content


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
    """Declares the extra namespaces at the root and writes the channel's lastBuildDate."""

    def __init__(self, last_build: datetime) -> None:
        self.last_build = last_build

    def extend_ns(self) -> dict[str, str]:
        return {"dc": DC_NS, "media": MEDIA_NS}

    def extend_rss(self, rss: Any) -> Any:
        channel = rss.find("channel")
        _sub(channel, "lastBuildDate", _rfc822(self.last_build))
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
        _sub(el, "pubDate", _rfc822(item.published))
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
            self._media_content(el, item.image)
        if item.sources:
            source = item.sources[0]
            _sub(el, "source", source.title or source.url, {"url": source.url})
        return el

    @staticmethod
    def _media_content(el: Any, image: Image) -> None:
        attrs = {"url": image.url, "medium": "image"}
        if image.type:
            attrs["type"] = image.type
        if image.width:
            attrs["width"] = str(image.width)
        if image.height:
            attrs["height"] = str(image.height)
        media = _sub(el, f"{{{MEDIA_NS}}}content", attrs=attrs)  # not in a media:group
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


def _render_rss(site: Site, spec: FeedSpec, items: Sequence[Item]) -> bytes:
    fg = FeedGenerator()
    fg.register_extension(
        "feeds", partial(_RssChannelExtension, _newest(items)), None, atom=False, rss=True
    )
    fg.title(_feed_title(site, spec))
    fg.link(href=feed_url(site, spec, Format.RSS), rel="self", type="application/rss+xml")
    # Last, because feedgen's RSS <link> is the href of the last link() call.
    fg.link(href=site.link or site.base_url, rel="alternate")
    fg.description(_feed_description(site, spec))
    if site.language:
        fg.language(site.language)
    if site.copyright:
        fg.copyright(site.copyright)
    fg.generator(GENERATOR)
    fg.docs(RSS_DOCS)
    _no_feedgen_last_build_date(fg)

    for item in items:
        fe = fg.add_entry(order="append")
        fe.title(_item_title(item))
        if item.link:
            fe.link(href=item.link)
        fe.guid(item.id, permalink=bool(item.link) and item.id == item.link)
        if item.summary:
            fe.description(item.summary)
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
    def __init__(self, updated: datetime) -> None:
        self.updated = updated

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, rss: Any) -> Any:
        return rss

    def extend_atom(self, feed: Any) -> Any:
        feed.find("updated").text = _rfc3339(self.updated)
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
        entry.find("updated").text = _rfc3339(item.updated)
        entry.find("published").text = _rfc3339(item.published)

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
            if enclosure.type:
                attrs["type"] = enclosure.type
            if enclosure.length > 0:
                attrs["length"] = str(enclosure.length)
            links.append(_element("link", attrs=attrs))
        for offset, link in enumerate(links):
            entry.insert(position + offset, link)

        if item.sources:
            upstream = item.sources[0]
            source = _sub(entry, "source")
            _sub(source, "id", upstream.url)
            _sub(source, "title", upstream.title or upstream.url)
            _sub(source, "link", attrs={"rel": "self", "href": upstream.url})
            _sub(source, "updated", _rfc3339(item.updated))
        return entry


def _render_atom(site: Site, spec: FeedSpec, items: Sequence[Item]) -> bytes:
    updated = _newest(items)
    fg = FeedGenerator()
    fg.register_extension("feeds", partial(_AtomFeedExtension, updated), None, atom=True, rss=False)
    fg.id(feed_url(site, spec, Format.ATOM))
    fg.title(_feed_title(site, spec))
    fg.subtitle(_feed_description(site, spec))
    fg.updated(updated)
    fg.link(href=site.link or site.base_url, rel="alternate", type="text/html")
    fg.link(href=feed_url(site, spec, Format.ATOM), rel="self", type="application/atom+xml")
    if site.title:
        fg.author({"name": site.title, "uri": site.link} if site.link else {"name": site.title})
    if site.copyright:
        fg.rights(site.copyright)
    fg.generator(GENERATOR)
    if site.language:
        fg.language(site.language)  # xml:lang on <feed>

    for item in items:
        fe = fg.add_entry(order="append")
        title = _item_title(item)
        fe.id(item.id)
        fe.title(title)
        fe.updated(_utc(item.updated))
        fe.published(_utc(item.published))  # Atom dates are isoformat, not setlocale
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
    out["date_published"] = _rfc3339(item.published)
    out["date_modified"] = _rfc3339(item.updated)
    authors = [{"name": name} for name in item.authors if name.strip()]
    if authors:
        out["authors"] = authors
    tags = [tag for tag in item.tags if tag]
    if tags:
        out["tags"] = tags
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
    return out


def _render_json(site: Site, spec: FeedSpec, items: Sequence[Item]) -> bytes:
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": _feed_title(site, spec),
        "home_page_url": site.link or site.base_url,
        "feed_url": feed_url(site, spec, Format.JSON),
        "description": _feed_description(site, spec),
    }
    if site.language:
        doc["language"] = site.language
    if site.title:
        author: dict[str, str] = {"name": site.title}
        if site.link:
            author["url"] = site.link
        doc["authors"] = [author]
    doc["items"] = [_json_item(item) for item in items]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
