"""OPML 2.0 reading lists: reading one safely, planning its import, writing one.

Pure functions and standard library only. A reading list is user-supplied XML, so it is read
with expat directly (``xml.parsers.expat``): expat reads nothing but the bytes it is given (no
DTD, no external entity is ever fetched: no handler for them is installed), and a document
that declares an entity is refused at the declaration, before anything could be expanded
(OPML needs none). lxml is not used here: in this package it belongs to ``feeds/render``.

Reading (:func:`parse_opml`): every ``<outline>`` with an ``xmlUrl`` is a feed; the outlines
around it (folders) and its own ``category`` attribute classify it, split on commas and
slashes as OPML 2.0 writes categories (``"/Boston/Weather,/Politics"``), and become its tags
(:func:`tags_of`): a category as written, a folder's name (a reader's display name, "Middle
East") in lower case with ``-`` for white space, as the config's tags are written. Its title is
``title``, else ``text``.

Planning (:func:`plan_import`): which outlines become sources (with ids, tags and the
settings a ``feeds:`` export carries), which are skipped and why (already configured, listed
twice, not a feed, no usable URL, commented out). URLs are compared in the form
:func:`url_key` gives.

Writing (:func:`opml_document`): the enabled sources, titles, tags as ``category``, and in
the ``feeds:`` namespace the source's id (and, for the editors' own export, its settings), so
that importing an export gives the same sources back.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from feeds.config import is_http_url, is_slug
from feeds.config.sources import load_sources
from feeds.config.table import Problems
from feeds.config.values import format_duration
from feeds.errors import FeedsError
from feeds.text import collapse, xml_text
from feeds.types import Config, Source
from feeds.urls import canonical_url, host_name, public_url

NAMESPACE = "urn:feeds:opml"  # our own attributes: feeds:id, feeds:interval, ...
SETTINGS = ("interval", "max_items", "max_age", "republish")  # carried as feeds:KEY
MAX_BYTES = 20 * 1024 * 1024  # a reading list of thousands of feeds is about 1 MB
# Outline types that name a feed subscription; any other declared type (OPML's "link" and
# "include", a reader's web-page scrapers such as "HTML+XPath") is not a feed we can fetch.
FEED_TYPES = frozenset({"", "rss", "atom", "rdf", "rss1", "rss2", "feed", "json", "jsonfeed"})
_ID_LENGTH = 60
_CATEGORY_SPLIT = re.compile(r"[,/]")


class OpmlError(FeedsError):
    """The file is not a readable OPML document; the message says why (without the file)."""


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Outline:
    """A leaf ``<outline>`` (a feed, or something that is not one) as read."""

    line: int
    url: str | None  # xmlUrl as written, trimmed; None when the outline has none
    title: str  # title, else text, white space collapsed; "" when it has neither
    tags: tuple[str, ...] = ()  # from the folders around it and categories
    type: str = ""
    comment: bool = False  # isComment="true", on it or an outline around it
    settings: Mapping[str, str] = field(default_factory=dict)  # feeds:id, feeds:interval...


@dataclass(frozen=True)
class Opml:
    title: str  # the head's <title>
    outlines: tuple[Outline, ...]  # in document order


@dataclass
class _Open:
    """An outline being read: what its children inherit."""

    attrs: dict[str, str]
    line: int
    column: int
    inherited: tuple[str, ...]  # tags from the outlines around it
    comment: bool
    has_children: bool = False


class _Reader:
    def __init__(self) -> None:
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.EntityDeclHandler = self.entity
        self.parser = parser
        self.path: list[str] = []
        self.open: list[_Open] = []
        self.outlines: list[tuple[int, Outline]] = []  # with the column it starts at
        self.title: list[str] = []
        self.body = False
        self.prefix = ""  # the prefix bound to NAMESPACE, if the document uses it

    def entity(self, *_: object) -> None:
        raise OpmlError("declares XML entities (refused: OPML needs none)")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.lower()
        if not self.path:
            if local != "opml":
                raise OpmlError(f"not an OPML document (the root element is <{name}>)")
            for key, value in attrs.items():
                if key.startswith("xmlns:") and value == NAMESPACE:
                    self.prefix = key[len("xmlns:") :].lower() + ":"
        self.path.append(local)
        if self.path == ["opml", "body"]:
            self.body = True
        if not self.in_outline():
            return
        lowered = {k.lower(): v for k, v in attrs.items()}
        above = self.open[-1] if self.open else None
        if above is not None:
            above.has_children = True
        comment = (above is not None and above.comment) or lowered.get(
            "iscomment", ""
        ).strip().lower() == "true"
        inherited = above.inherited if above is not None else ()
        own = tags_of(lowered.get("category", ""))
        if not lowered.get("xmlurl", "").strip():  # a folder: its name classifies its children
            own = tags_of(_label(lowered), folder=True) + own
        self.open.append(
            _Open(
                lowered,
                self.parser.CurrentLineNumber,
                self.parser.CurrentColumnNumber,
                _unique([*inherited, *own]),
                comment,
            )
        )

    def end(self, name: str) -> None:
        inside = self.in_outline()
        self.path.pop()
        if not inside:
            return
        done = self.open.pop()
        attrs = done.attrs
        url = attrs.get("xmlurl", "").strip() or None
        if url is None and done.has_children:
            return  # a folder
        settings = {}
        if self.prefix:
            for key in ("id", *SETTINGS):
                value = attrs.get(self.prefix + key, "").strip()
                if value:
                    settings[key] = value
        self.outlines.append(
            (
                done.column,
                Outline(
                    line=done.line,
                    url=url,
                    title=_label(attrs),
                    tags=done.inherited,
                    type=attrs.get("type", "").strip(),
                    comment=done.comment,
                    settings=settings,
                ),
            )
        )

    def in_outline(self) -> bool:
        """The element just opened (or about to close) is an outline of the body."""
        path = self.path
        return len(path) > 2 and path[1] == "body" and all(p == "outline" for p in path[2:])

    def text(self, data: str) -> None:
        if self.path == ["opml", "head", "title"]:
            self.title.append(data)


def _label(attrs: Mapping[str, str]) -> str:
    return collapse(attrs.get("title", "")) or collapse(attrs.get("text", ""))


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def parse_opml(data: bytes) -> Opml:
    """Read an OPML document (1.0 or 2.0). Raises :class:`OpmlError` when it is too large, not
    XML, malformed, declares entities, or is not OPML (its root is not ``<opml>``, or it has
    no ``<body>``)."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"too large for a reading list ({len(data)} bytes; at most {MAX_BYTES})")
    if not data.strip():
        raise OpmlError("empty file, not an OPML document")
    reader = _Reader()
    try:
        reader.parser.Parse(data, True)
    except expat.ExpatError as e:
        where = f"line {e.lineno}, column {e.offset + 1}"
        problem = expat.ErrorString(e.code)
        if not reader.path and not reader.body:
            raise OpmlError(f"not an OPML document: not XML ({where}: {problem})") from None
        raise OpmlError(f"{where}: malformed XML ({problem})") from None
    if not reader.body:
        raise OpmlError("not an OPML document (no <body> in <opml>)")
    # Leaves are complete at their end tag; a feed outline holding outlines (a note, say)
    # ends after them, so document order is restored from where each outline starts.
    ordered = sorted(reader.outlines, key=lambda found: (found[1].line, found[0]))
    return Opml(title=collapse("".join(reader.title)), outlines=tuple(o for _, o in ordered))


# --------------------------------------------------------------------------- values


def tags_of(text: str, *, folder: bool = False) -> list[str]:
    """Tags from a ``category`` value, or a folder's name (``folder=True``): split on commas
    and slashes, white space trimmed and collapsed. A category is a tag as written (what an
    export writes comes back unchanged); a folder's name is lower-cased with its white space
    made one ``-`` (``"/Middle East,Wire"`` → ``["middle-east", "wire"]``)."""
    parts = (" ".join(part.split()) for part in _CATEGORY_SPLIT.split(text))
    if folder:
        parts = ("-".join(part.lower().split()) for part in parts)
    return [part for part in parts if part]


def slugify(text: str) -> str:
    """A source id made from a title or host name: ASCII letters and digits joined by ``-``,
    accents dropped, at most 60 characters; "" when nothing is left (a title in Arabic)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’]", "", ascii_text.lower())).strip("-")
    if len(slug) > _ID_LENGTH:  # cut after the last whole word that fits, if there is one
        cut = slug[: _ID_LENGTH + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:_ID_LENGTH]
    return slug


def feed_url(raw: str) -> str:
    """A feed URL as written in a reading list, as it will be fetched: trimmed, and the
    ``feed:`` pseudo-scheme (``feed://host/…``, ``feed:https://host/…``) made http(s)."""
    url = raw.strip()
    if url[:5].lower() == "feed:":
        rest = url[5:]
        if rest.startswith("//"):
            return "http:" + rest
        if rest[:7].lower() == "http://" or rest[:8].lower() == "https://":
            return rest
    return url


def url_key(url: str) -> str:
    """What makes two feed URLs the same feed: their canonical forms (``feeds.urls``: case of
    scheme and host, default port, tracking parameters) compared without the scheme
    (http and https), credentials, fragment, punycode and a trailing slash."""
    canonical = canonical_url(feed_url(url))
    try:
        parts = urlsplit(canonical)
    except ValueError:
        return canonical
    if not parts.hostname:
        return canonical
    netloc = host_name(parts.netloc.rpartition("@")[2]).lower()
    return urlunsplit(("", netloc, parts.path.rstrip("/"), parts.query, ""))


# --------------------------------------------------------------------------- planning


class Verdict(enum.StrEnum):
    ADDED = "added"
    PRESENT = "already present"
    REPEATED = "listed twice"
    NOT_FEED = "not a feed"
    BAD_URL = "unusable URL"
    COMMENTED = "commented out"


@dataclass(frozen=True)
class NewSource:
    """A ``[[source]]`` table to add, its keys in the order they are written."""

    id: str
    url: str
    title: str
    tags: tuple[str, ...] = ()
    settings: tuple[tuple[str, str | int], ...] = ()

    def table(self) -> dict[str, Any]:
        table: dict[str, Any] = {"id": self.id, "title": self.title, "url": self.url}
        if self.tags:
            table["tags"] = list(self.tags)
        table.update(self.settings)
        return table


@dataclass(frozen=True)
class Step:
    """What became of one outline: its verdict, the source id it was added as (or that it
    repeats), and a note for the editor."""

    outline: Outline
    verdict: Verdict
    source_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class ImportPlan:
    steps: tuple[Step, ...]
    sources: tuple[NewSource, ...]  # to add, in order; tags of repeated outlines merged


def plan_import(
    opml: Opml, existing: Mapping[str, str], extra_tags: Sequence[str] = ()
) -> ImportPlan:
    """Decide the fate of every outline of ``opml`` given the sources already configured
    (``existing``: id → URL; the ids taken, the URLs compared with :func:`url_key`);
    ``extra_tags`` go to every source added."""
    taken = set(existing)
    present = {url_key(url): sid for sid, url in existing.items() if url}
    drafts: dict[str, NewSource] = {}  # url_key → source being added
    first_line: dict[str, int] = {}
    steps: list[Step] = []
    for outline in opml.outlines:
        if outline.url is None:
            steps.append(Step(outline, Verdict.NOT_FEED, note="no xmlUrl"))
            continue
        if outline.comment:
            steps.append(Step(outline, Verdict.COMMENTED, note='isComment="true"'))
            continue
        if outline.type.lower() not in FEED_TYPES:
            steps.append(Step(outline, Verdict.NOT_FEED, note=f"type {outline.type!r}"))
            continue
        url = feed_url(outline.url)
        if not is_http_url(url):
            steps.append(Step(outline, Verdict.BAD_URL, note="not an absolute http(s) URL"))
            continue
        key = url_key(url)
        if key in present:
            steps.append(Step(outline, Verdict.PRESENT, present[key]))
            continue
        tags = _unique([*outline.tags, *extra_tags])
        if key in drafts:
            draft = drafts[key]
            drafts[key] = NewSource(
                draft.id, draft.url, draft.title, _unique(draft.tags + tags), draft.settings
            )
            note = f"same feed as line {first_line[key]} ({draft.id})"
            if set(tags) - set(draft.tags):
                note += "; its tags are added to it"
            steps.append(Step(outline, Verdict.REPEATED, draft.id, note))
            continue
        source_id = _new_id(outline, url, taken)
        taken.add(source_id)
        title = outline.title or host_name(urlsplit(url).hostname or url)
        base = NewSource(source_id, url, title, tags)
        settings, notes = _settings(base, outline.settings)
        drafts[key] = NewSource(source_id, url, title, tags, settings)
        first_line[key] = outline.line
        steps.append(Step(outline, Verdict.ADDED, source_id, "; ".join(notes)))
    sources = tuple(drafts.values())
    return ImportPlan(tuple(steps), sources)


def _new_id(outline: Outline, url: str, taken: set[str]) -> str:
    """The id an export gave the source when free, else a slug of the title (or the host),
    made unique with ``-2``, ``-3``..."""
    wanted = outline.settings.get("id", "")
    if is_slug(wanted) and wanted not in taken:
        return wanted
    host = host_name(urlsplit(url).hostname or "").removeprefix("www.")
    base = slugify(outline.title) or slugify(host) or "source"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _settings(
    base: NewSource, raw: Mapping[str, str]
) -> tuple[tuple[tuple[str, str | int], ...], list[str]]:
    """The ``feeds:`` settings of an outline that sources.toml accepts, each checked by the
    config loader itself; a note for each one left out."""
    kept: list[tuple[str, str | int]] = []
    notes = []
    for key in SETTINGS:
        if key not in raw:
            continue
        value: str | int = raw[key]
        if key == "max_items" and raw[key].isdigit():
            value = int(raw[key])
        problems = Problems()
        load_sources({"source": [{**base.table(), key: value}]}, problems)
        if problems.lines:
            notes.append(f"feeds:{key} left out: {problems.lines[0].split(': ', 2)[-1]}")
        else:
            kept.append((key, value))
    return tuple(kept), notes


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class Listed:
    """A source as a reading list shows it."""

    id: str
    title: str
    url: str
    tags: tuple[str, ...] = ()
    html_url: str = ""  # the site the source's feed links to, when known
    settings: tuple[tuple[str, str], ...] = ()


def listed_sources(config: Config, *, public: bool) -> list[Listed]:
    """The enabled sources, in config order. ``public``: as ``/sources`` shows them (no
    source that only partners feeds use, no credentials in URLs, no settings)."""
    hidden = config.partners_only_sources() if public else frozenset()
    return [
        Listed(
            id=source.id,
            title=source.title,
            url=public_url(source.url) if public else source.url,
            tags=source.tags,
            settings=() if public else _source_settings(source),
        )
        for source in config.sources
        if source.enabled and source.id not in hidden
    ]


def _source_settings(source: Source) -> tuple[tuple[str, str], ...]:
    """The settings of a source that differ from the defaults, as sources.toml writes them."""
    default = Source(id=source.id, url=source.url, title=source.title)
    out: list[tuple[str, str]] = []
    if source.interval != default.interval:
        out.append(("interval", format_duration(source.interval)))
    if source.max_items != default.max_items:
        out.append(("max_items", str(source.max_items)))
    if source.max_age is not None:
        out.append(("max_age", format_duration(source.max_age)))
    if source.republish is not default.republish:
        out.append(("republish", source.republish.value))
    return tuple(out)


def build_opml(title: str, sources: Sequence[Listed]) -> bytes:
    """An OPML 2.0 document listing ``sources`` (UTF-8, byte-stable: no timestamps)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<opml version="2.0" xmlns:feeds="{NAMESPACE}">',
        "  <head>",
        f"    <title>{escape(xml_text(title))}</title>",
        "    <docs>http://opml.org/spec2.opml</docs>",
        "  </head>",
        "  <body>",
    ]
    for source in sources:
        attrs = [("text", source.title), ("title", source.title), ("type", "rss")]
        attrs.append(("xmlUrl", source.url))
        if source.html_url:
            attrs.append(("htmlUrl", source.html_url))
        if source.tags:
            attrs.append(("category", ",".join(source.tags)))
        attrs.append(("feeds:id", source.id))
        attrs += [(f"feeds:{key}", value) for key, value in source.settings]
        written = " ".join(f"{key}={quoteattr(xml_text(value))}" for key, value in attrs)
        lines.append(f"    <outline {written}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def opml_document(config: Config, *, public: bool) -> bytes:
    """The reading list of ``config``'s enabled sources (see :func:`listed_sources`)."""
    return build_opml(f"{config.site.title}: sources", listed_sources(config, public=public))
