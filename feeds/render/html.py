"""A feed's HTML view: the page a person opening the feed in a browser reads, with no XSLT.

One page for RSS, Atom and JSON Feed alike: the feed's title and description, its items as
subscribers see them (title and link, date, authors, lead image with caption and credit,
summary), and how to subscribe (the three addresses, and what a feed reader is). Rendered by
the clock when it publishes the feed, in the site's language (``feeds.i18n``: its catalog,
its dates, its direction), never by the web process. Pure and byte-stable: the same inputs
give the same bytes (no "now").

This module is the only user of Jinja2 outside Flask (whose pages are per request): its
templates live in ``feeds/render/templates`` and their text is in the same catalogs as the
web pages'.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from feeds import i18n
from feeds.render.clean import clean_item, clean_site, clean_spec
from feeds.render.common import (
    FORMATS,
    channel_link,
    feed_description,
    feed_title,
    feed_url,
    item_title,
    lead_image,
)
from feeds.times import rfc3339
from feeds.types import FeedSpec, Format, Item, Site

__all__ = ["FORMAT_LABELS", "render_view", "view_path"]

TEMPLATES = Path(__file__).parent / "templates"
FORMAT_LABELS = {Format.RSS: "RSS", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}
FORMAT_TYPES = {
    Format.RSS: "application/rss+xml",
    Format.ATOM: "application/atom+xml",
    Format.JSON: "application/feed+json",
}


def view_path(name: str) -> str:
    """Where a feed's view is served, relative to the site's base URL."""
    return f"/feeds/{name}"


@functools.lru_cache(maxsize=16)
def _environment(language: str) -> Environment:
    """A template environment speaking ``language`` (one per language, kept)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def render_view(site: Site, spec: FeedSpec, items: Sequence[Item]) -> bytes:
    """The HTML view of a feed's current document holding ``items`` (newest first)."""
    language = site.language
    minting = clean_site(site, urls=False)
    site, spec = clean_site(site), clean_spec(spec)
    feeds = [
        {
            "format": fmt.value,
            "label": FORMAT_LABELS[fmt],
            "type": FORMAT_TYPES[fmt],
            "url": feed_url(site, spec, fmt),
        }
        for fmt in FORMATS
    ]
    page = (
        _environment(language)
        .get_template("view.html")
        .render(
            lang=language,
            dir=i18n.direction(language),
            site_title=site.title,
            site_link=channel_link(site),
            home=site.base_url.rstrip("/") + "/",
            title=feed_title(site, spec),
            description=feed_description(site, spec),
            feeds=feeds,
            items=[_item(minting, item, language) for item in items],
        )
    )
    return page.encode("utf-8")


@functools.lru_cache(maxsize=2048)
def _item(minting: Site, item: Item, language: str) -> dict[str, Any]:
    """What the template shows of an item (read only: the dict is shared). Remembered: a
    feed republished after one new entry shows the others again, and cleaning an item and
    formatting its dates cost more than the rest of its page."""
    item = clean_item(minting, item)
    image = lead_image(item)
    published = i18n.format_when(item.published, language)
    updated = i18n.format_when(item.updated, language)
    corrected = updated != published  # a correction, not the second apart of distinct times
    return {
        "title": item_title(item),
        "link": item.link,
        "lang": item.language,
        "dir": i18n.direction(item.language) if item.language else "",
        "published": rfc3339(item.published),
        "published_text": published,
        "updated": rfc3339(item.updated) if corrected else "",
        "updated_text": updated if corrected else "",
        "authors": ", ".join(a for a in item.authors if a.strip()),
        "image": image,
        "summary": item.summary,
        "sources": ", ".join(s.title or s.url for s in item.sources),
    }
