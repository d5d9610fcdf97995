"""Why a body is not a feed, said so that an editor knows what the URL serves.

Well-known binary bodies (PDF, PNG, JPEG, GIF, ZIP, gzip) are named; an HTML page is called one,
with the feed it points to (``<link rel="alternate">`` of a feed type, resolved against the
page's ``<base href>`` and URL) when it has one. Every "not a feed" message quotes at most
``DETAIL_LENGTH`` characters of a library's own error. Standard library only.
"""

from __future__ import annotations

from html.parser import HTMLParser

from feeds.urls import join

__all__ = ["DETAIL_LENGTH", "binary_kind", "detail", "find_feed_link", "html_page"]

DETAIL_LENGTH = 200
_FEED_LINK_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_BINARY_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
)


def detail(error: BaseException) -> str:
    """A library's error message, cut to ``DETAIL_LENGTH`` characters for a ParseError."""
    return str(error)[:DETAIL_LENGTH]


def binary_kind(body: bytes) -> str | None:
    """What well-known binary format ``body`` is ("a PDF document", ...), if any."""
    for magic, kind in _BINARY_SIGNATURES:
        if body.startswith(magic):
            return kind
    return None


def html_page(body: bytes, url: str) -> str | None:
    """When ``body`` (fetched from ``url``) looks like an HTML page, what to say about it:
    "an HTML page", and the feed it points to if any. None for anything else."""
    head = body[:4096].lower()
    if b"<html" not in head and b"<!doctype html" not in head and b"<head" not in head:
        return None
    feed_url = find_feed_link(body, url)
    if feed_url:
        return f"an HTML page; it points to the feed at {feed_url}"
    return "an HTML page"


class _FeedLinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.feeds: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "").strip() for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "link" and a.get("href"):
            rels = a.get("rel", "").lower().split()
            kind = a.get("type", "").split(";", 1)[0].strip().lower()
            if "alternate" in rels and kind in _FEED_LINK_TYPES:
                self.feeds.append(a["href"])


def find_feed_link(body: bytes, url: str) -> str | None:
    """The absolute URL of the first feed an HTML page (fetched from ``url``) links to."""
    finder = _FeedLinkFinder()
    try:
        finder.feed(body[:262144].decode("utf-8", "replace"))
        finder.close()
    except Exception:  # HTMLParser is lenient; never let a hint turn into a crash
        pass
    if not finder.feeds:
        return None
    base = join(url, finder.base) if finder.base else url
    return join(base, finder.feeds[0])
