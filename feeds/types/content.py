"""What the stages pass along: parsed and normalized entries, local articles, the items of
a published feed, and the documents rendered from them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Image:
    url: str
    caption: str = ""
    credit: str = ""
    width: int | None = None
    height: int | None = None
    type: str = ""  # MIME type when known


@dataclass(frozen=True)
class Enclosure:
    url: str
    type: str = ""
    length: int = 0


# --------------------------------------------------------------------------- parse


@dataclass(frozen=True)
class ParsedEntry:
    """An entry as the upstream document states it; URLs may still be relative."""

    id: str | None
    title: str  # may contain markup as the upstream sent it; normalize makes it plain text
    link: str | None
    published: datetime | None  # UTC
    updated: datetime | None  # UTC
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    summary: str = ""  # HTML
    content: str = ""  # HTML
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    base: str | None = None  # the base URL relative references resolve against


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None  # the upstream's home page
    entries: tuple[ParsedEntry, ...]
    ttl: timedelta | None = None  # <ttl> or sy:updatePeriod, when the feed states one
    # What could not be read and was left out rather than guessed (a date in an unknown
    # form, say), for editors: one short sentence each.
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- normalized


@dataclass(frozen=True)
class Entry:
    """A normalized upstream entry, ready to store and merge."""

    source_id: str
    id: str  # stable for the same upstream entry across fetches
    title: str  # plain text
    link: str  # absolute, canonical ("" when the upstream gave none)
    published: datetime  # UTC, never in the future of first_seen
    updated: datetime  # UTC, >= published
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""  # sanitized HTML with absolute URLs
    content: str = ""  # sanitized HTML with absolute URLs
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    content_hash: str = ""  # changes only when what readers see changes
    # The source's document gives this link to other stories too (a podcast's home page): the
    # link does not identify this story, so it merges nothing across sources.
    link_shared: bool = False


@dataclass(frozen=True)
class Article:
    """One of the outlet's own articles (a Markdown file, later also pushed by the CMS)."""

    slug: str  # unique among articles; the file name without ".md" unless front matter says so
    title: str
    link: str  # absolute
    published: datetime  # UTC
    updated: datetime  # UTC
    authors: tuple[str, ...] = ()
    summary: str = ""  # plain text dek
    content: str = ""  # HTML rendered from the Markdown body
    tags: tuple[str, ...] = ()
    image: Image | None = None
    path: str = ""  # the file it came from, relative to the articles directory
    content_hash: str = ""
    language: str = ""  # BCP 47 tag when it differs from the site's language, e.g. "ar"


@dataclass(frozen=True)
class ItemSource:
    """The upstream an aggregated item came from (RSS <source>, atom:source)."""

    id: str
    title: str
    url: str  # the upstream feed URL


@dataclass(frozen=True)
class Item:
    """One item of a published feed: a local article or an upstream entry, merged."""

    id: str  # the same in all formats; a URL for local articles, a tag: URI or guid otherwise
    title: str
    link: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str = ""  # plain text
    content: str = ""  # HTML with absolute URLs; "" when the feed publishes summaries only
    image: Image | None = None
    enclosures: tuple[Enclosure, ...] = ()
    sources: tuple[ItemSource, ...] = ()  # empty for local articles
    language: str = ""  # BCP 47 tag when it differs from the feed's language


@dataclass(frozen=True)
class Page:
    """Which document of a feed is rendered, and how it links to the others (RFC 5005).

    The current (subscription) document has number 0; archive pages are numbered from 1, the
    oldest. `prev_archive` is the number of the newest archive page older than this document
    (None when there is none).
    """

    number: int = 0
    prev_archive: int | None = None
    next_archive: int | None = None  # archive pages only: the next newer archive page
    ttl: timedelta | None = None  # current document: how often it is expected to change

    @property
    def is_archive(self) -> bool:
        return self.number > 0


# --------------------------------------------------------------------------- published


class Format(enum.StrEnum):
    RSS = "rss"
    ATOM = "atom"
    JSON = "json"

    @property
    def content_type(self) -> str:
        return {
            Format.RSS: "application/rss+xml; charset=utf-8",
            Format.ATOM: "application/atom+xml; charset=utf-8",
            Format.JSON: "application/feed+json; charset=utf-8",
        }[self]


@dataclass(frozen=True)
class Rendered:
    """What render produces for one feed in one format."""

    format: Format
    body: bytes


@dataclass(frozen=True)
class Document:
    """A stored, servable document."""

    feed: str
    format: Format
    body: bytes
    gzip: bytes
    etag: str  # strong, quoted
    last_modified: datetime  # UTC, whole seconds: when these bytes were first stored
    content_type: str
    page: int = 0  # 0: the current (subscription) document; n: archive page n
    variant: str = ""  # "": the feed's own; else the content mode of a partners' variant
    omitted: int = 0  # items left out to keep the document within the feed's byte budget


HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@dataclass(frozen=True)
class View:
    """A feed's HTML view: the page a browser opening the feed shows, rendered at publish
    time and stored like a document (with its own ETag and gzip copy)."""

    feed: str
    body: bytes
    gzip: bytes
    etag: str  # strong, quoted
    last_modified: datetime  # UTC, whole seconds: when these bytes were first stored
    content_type: str = HTML_CONTENT_TYPE
