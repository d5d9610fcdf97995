"""The configuration, as loaded and validated from config/*.toml."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from feeds.types.webhooks import Webhook


@dataclass(frozen=True)
class FetchSettings:
    """The `[fetch]` table of site.toml."""

    user_agent: str = "feeds/0.1 (+https://github.com/feeds/feeds)"
    deadline: float = 30.0  # seconds for a whole fetch: connect, headers and body
    max_bytes: int = 10 * 1024 * 1024  # counted after decompression
    concurrency: int = 8  # sources fetched at once
    max_redirects: int = 5
    allow_private_addresses: bool = False
    allow_addresses: tuple[str, ...] = ()  # addresses/networks admitted even if link-local
    per_host: int = 2  # requests at once to one host
    host_spacing: float = 0.5  # seconds between the starts of two requests to one host


@dataclass(frozen=True)
class Site:
    """site.toml: the outlet publishing the feeds."""

    title: str
    link: str  # the site's home page
    base_url: str  # public URL of this service, no trailing slash
    description: str
    language: str
    articles_dir: Path
    fetch: FetchSettings = field(default_factory=FetchSettings)
    copyright: str = ""
    articles_interval: timedelta = timedelta(seconds=30)
    articles_max_bytes: int = 1_000_000  # the largest article file read (and API body taken)
    hub: str = ""  # WebSub hub URL; "" when none
    icon: str = ""  # square icon URL (Atom icon, JSON Feed icon/favicon)
    logo: str = ""  # wide logo URL (RSS channel image, Atom logo)
    archive_page_size: int = 50  # items per RFC 5005 archive page
    webhooks: tuple[Webhook, ...] = ()  # [[webhook]] tables

    def feed_url(self, name: str, extension: str) -> str:
        """The public URL of a published document, e.g. feed_url("ours", "rss")."""
        return f"{self.base_url.rstrip('/')}/feeds/{name}.{extension}"

    def archive_url(self, name: str, number: int, extension: str) -> str:
        """The public URL of archive page `number` (1 = oldest) of a feed."""
        return f"{self.base_url.rstrip('/')}/feeds/{name}/archive/{number}.{extension}"


class Republish(enum.StrEnum):
    """The most of a source's text that may leave the building (``republish`` in
    sources.toml): every feed, variant and reader gets at most this."""

    FULL = "full"  # title, summary, full text, image and enclosures
    SUMMARY = "summary"  # title, a plain-text summary cut at a word boundary, image, enclosures
    TITLE = "title"  # title and link (and the item's dates, authors, tags and credit)


@dataclass(frozen=True)
class Source:
    """One `[[source]]` of sources.toml."""

    id: str
    url: str
    title: str
    tags: tuple[str, ...] = ()
    interval: timedelta = timedelta(minutes=30)
    enabled: bool = True
    max_items: int = 500  # retention: entries kept beyond the latest fetch
    max_age: timedelta | None = None  # retention: entries older than this are dropped
    republish: Republish = Republish.FULL


class ContentMode(enum.StrEnum):
    FULL = "full"
    SUMMARY = "summary"


class Access(enum.StrEnum):
    """Who may read a feed (``access`` in feeds.toml)."""

    PUBLIC = "public"  # anyone; partners granted it get their own variant
    PARTNERS = "partners"  # only partners granted it, with their key


@dataclass(frozen=True)
class FeedSpec:
    """One `[[feed]]` of feeds.toml."""

    name: str  # URL slug
    title: str
    description: str = ""
    # True: every local article; False: none; a tuple: local articles having any of these tags.
    local: bool | tuple[str, ...] = False
    # Source ids, "tag:NAME" or "*", as written in the config.
    sources: tuple[str, ...] = ()
    limit: int = 50
    # The byte budget of each current document: one that would be larger leaves out its oldest
    # items until it fits (each format on its own). 2 MB: Google News' limit per feed.
    max_bytes: int = 2_000_000
    include: tuple[str, ...] = ()  # regular expressions, case-insensitive; an item must match one
    exclude: tuple[str, ...] = ()  # regular expressions, case-insensitive; an item must match none
    max_age: timedelta | None = None
    content: ContentMode = ContentMode.FULL
    access: Access = Access.PUBLIC

    @property
    def public(self) -> bool:
        return self.access is Access.PUBLIC


@dataclass(frozen=True)
class Partner:
    """One `[[partner]]` of access.toml: who may read which feeds, and how much of them."""

    id: str
    name: str
    key_sha256: str  # lower-case hex SHA-256 of the partner's key; the key itself is never stored
    feeds: tuple[str, ...] = ("*",)  # feed names, or "*" for every feed
    content: ContentMode = ContentMode.FULL  # the most this partner receives of any feed
    enabled: bool = True

    def reads(self, feed: str) -> bool:
        """Whether this partner may read ``feed`` (enabled and granted it)."""
        return self.enabled and ("*" in self.feeds or feed in self.feeds)


class Scope(enum.StrEnum):
    """What an API client may do (``scopes`` of a ``[[client]]`` in access.toml)."""

    ARTICLES = "articles"  # write, read and delete the articles it pushes (/api/articles)
    OVERRIDES = "overrides"  # the editors' overrides (/api/overrides)


@dataclass(frozen=True)
class Client:
    """One `[[client]]` of access.toml: a program calling the API (the outlet's CMS)."""

    id: str
    name: str
    key_sha256: str  # lower-case hex SHA-256 of the client's key; the key itself is never stored
    scopes: frozenset[Scope] = frozenset()
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    site: Site
    sources: tuple[Source, ...]
    feeds: tuple[FeedSpec, ...]
    partners: tuple[Partner, ...] = ()
    clients: tuple[Client, ...] = ()

    def source(self, source_id: str) -> Source | None:
        return self._sources_by_id.get(source_id)

    @functools.cached_property
    def _sources_by_id(self) -> dict[str, Source]:
        return {s.id: s for s in reversed(self.sources)}  # the first of a repeated id wins

    def feed(self, name: str) -> FeedSpec | None:
        return next((f for f in self.feeds if f.name == name), None)

    def partners_only_sources(self) -> frozenset[str]:
        """The sources that only partners feeds select: not shown on public pages."""
        private: set[str] = set()
        public: set[str] = set()
        for spec in self.feeds:
            (public if spec.public else private).update(self.source_ids_for(spec))
        return frozenset(private - public)

    def source_ids_for(self, spec: FeedSpec) -> tuple[str, ...]:
        """Resolve a feed's `sources` selectors to enabled source ids, in config order."""
        wanted: list[str] = []
        for source in self.sources:
            if not source.enabled:
                continue
            for selector in spec.sources:
                if (
                    selector == "*"
                    or selector == source.id
                    or (selector.startswith("tag:") and selector[4:] in source.tags)
                ):
                    wanted.append(source.id)
                    break
        return tuple(wanted)
