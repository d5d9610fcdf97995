"""ParsedFeed -> [Entry]: ids, dates, canonical URLs, sanitised absolute HTML, hashes.

Pure functions; the current time is passed in. URL rules live in ``feeds.urls``, the HTML
sanitiser in ``feeds.sanitize``, id rules in ``feeds.ids``.

Decisions:

- Identity within one document (``normalize_feed``); feeds list distinct stories under shared
  links (podcasts, digests) and broken generators repeat guids, and no distinct story may be
  lost for it:

  - an entry keeps its guid/id (``entry_id``) whatever its link: entries with distinct ids
    stay distinct even when they share a link;
  - an entry without an id whose canonical link is shared by another entry of the document
    gets ``hashed_id(link, title)`` instead of its link (the title is the plain-text title,
    else the text of the summary or content): stable across fetches of the same document.
    Its id changes when its link starts or stops being shared (an entry that was alone with
    its link is then stored once more under the new id);
  - an id (a guid, or one of the above) carried by entries that tell different stories
    (different canonical link or title) identifies none of them: each gets
    ``hashed_id(id, link, title)``, stable across fetches. A guid seen alone in one fetch
    and repeated for another story in the next is that case from then on: the story stored
    under the bare guid stays stored as it was (normalize cannot tell which of the stories it
    was) and appears once more under its hashed id;
  - exact repeats (same id, same canonical link and title) are one entry: the first
    occurrence is kept.
- Dates (``normalize_feed``). An entry's date is its published date, else its updated date.
  Entries without one ("undated", including dates parse could not read), or with one in the
  future of ``now``, are dated by the fetch, in document order (feeds list newest first),
  each taking the first second at or before its proposed time that no other entry of the
  document holds, so that no two entries share a time by accident:

  - on a source's first fetch (``first_seen`` empty) an undated entry is proposed just below
    the oldest dated entry of the document, so that it never outranks the source's dated
    entries in merged feeds (``now`` when none is dated). An entry first seen on that fetch
    (its first_seen is the source's earliest: the store stamps one time on everything a fetch
    inserts) is dated by the same rule on later fetches, so the same document gives the same
    times;
  - later, an undated entry is proposed at its first_seen, a new one at ``now``;
  - an entry dated in the future is proposed at its first_seen, else ``now``, until its date
    has come.
- An empty title becomes the first words (at most 80 characters, cut at a word, with "…") of
  the plain-text summary, else of the content; with neither it is "(untitled)".
- Only http(s) links, image and enclosure URLs with a host (and a valid port, if any) are kept;
  anything else, including what ``urlsplit`` rejects (``http://[x/``), becomes "" (link) or is
  dropped (image, enclosure).
- Every string of an Entry is storable text (``feeds.text.storable_text``): the
  title, link, authors, tags, summary, content and the image and enclosure fields.
- Ids: the upstream guid/id when it is a sane string, else its hash (``feeds.ids.stable_id``);
  the same rule applies to a link used as the id (the canonical link, resolved against the
  entry's base, else the feed's URL).
- MIME types (enclosure, image) are ``type/subtype`` tokens (``image/...`` for an image);
  parameters are dropped; anything else becomes "" (image) or "application/octet-stream"
  (enclosure; a missing type stays "", which render publishes as application/octet-stream).
  Enclosure lengths and image sizes are between 0 and 2**63-1 (else 0 / None).
- ``normalize_feed`` raises ParseError and nothing else: an unexpected exception while
  normalizing becomes a ParseError naming the entry and the problem.
- Images' caption and credit, authors are plain text.
- near_duplicate_key: one trailing " - Source" / " | Source" / " — Source" segment of at most
  four words is dropped from the title (wire titles as partners republish them); letters and
  digits of every script are kept, combining marks (accents written separately, Arabic
  harakat), punctuation, symbols and controls are dropped, so "don’t" and "dont" agree.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import NamedTuple

from feeds.errors import ParseError
from feeds.ids import hashed_id, stable_id
from feeds.sanitize import plain_text, plain_title, sanitize_html
from feeds.text import TITLE_FROM_TEXT_LENGTH, UNTITLED, cut, storable_text
from feeds.times import utc
from feeds.types import Enclosure, Entry, Image, ParsedEntry, ParsedFeed
from feeds.urls import web_url

__all__ = [
    "content_hash",
    "document_ids",
    "entry_id",
    "near_duplicate_key",
    "normalize_entry",
    "normalize_feed",
]

MAX_INT = 2**63 - 1  # BIGINT
DEFAULT_ENCLOSURE_TYPE = "application/octet-stream"

_MIME_TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MIME_TYPE = re.compile(f"{_MIME_TOKEN}/{_MIME_TOKEN}")

# --------------------------------------------------------------------------- near duplicates

NEAR_DUPLICATE_TITLE_LENGTH = 120
NEAR_DUPLICATE_TEXT_LENGTH = 200
# " - Reuters", " | AP News", " — Al Jazeera": a short trailing attribution after a spaced dash
_SOURCE_SUFFIX = re.compile(r"\s+[-–—|]\s+(?P<source>[^-–—|]{1,40})$")


_APOSTROPHES = frozenset("'’‘ʼ`´")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for ch in text:
        if ch in _APOSTROPHES:  # "don’t" and "don't" both become "dont"
            continue
        category = unicodedata.category(ch)
        if category[0] in "LN":
            out.append(ch)
        elif category[0] != "M":  # punctuation, symbols, separators, controls
            out.append(" ")
    return " ".join("".join(out).split())


def near_duplicate_key(title: str, text: str) -> str:
    """A key equal for trivially different copies of one story (to merge across sources).

    ``title`` and ``text`` may be HTML or plain text. The key is the folded title (case,
    Unicode compatibility forms, punctuation and whitespace folded; a trailing source
    attribution such as " - Reuters" dropped), its first 120 characters, then "|", then the
    first 200 characters of the folded text.
    """
    title_text = plain_text(title)
    match = _SOURCE_SUFFIX.search(title_text)
    if match and len(match.group("source").split()) <= 4 and _fold(title_text[: match.start()]):
        title_text = title_text[: match.start()]
    folded_title = _fold(title_text)[:NEAR_DUPLICATE_TITLE_LENGTH].rstrip()
    folded_text = _fold(plain_text(text))[:NEAR_DUPLICATE_TEXT_LENGTH].rstrip()
    return f"{folded_title}|{folded_text}"


# --------------------------------------------------------------------------- ids and hashes


def entry_id(parsed: ParsedEntry) -> str:
    """The upstream's guid/id, else its canonical link, else a hash of what it says.

    Stable across fetches of an unchanged entry. An id or link that is not a sane id (see
    ``feeds.ids``) is replaced by "sha256:" and its hash. This is an entry's id on its own;
    within a document, ``normalize_feed`` keeps distinct stories apart (module docstring).
    """
    return _own_id(parsed, None)


def _own_id(parsed: ParsedEntry, link: str | None) -> str:
    """``entry_id``, with the entry's canonical link when already known."""
    if parsed.id and parsed.id.strip():
        return stable_id(parsed.id.strip())
    if link is None:
        link = web_url(parsed.link, parsed.base)
    if link:
        return stable_id(link, split_checked=True)
    return hashed_id(parsed.title, parsed.summary, parsed.content)


def _identity_title(parsed: ParsedEntry) -> str:
    """What tells apart entries sharing a link or an id: the title, else the text."""
    return plain_text(parsed.title) or plain_text(parsed.summary) or plain_text(parsed.content)


class DocumentIds(NamedTuple):
    """The entries' ids within their document (None for an exact repeat of an earlier
    entry), and the links that several stories of the document carry."""

    ids: list[str | None]
    shared_links: set[str]


def document_ids(entries: Sequence[ParsedEntry], links: Sequence[str] | None = None) -> DocumentIds:
    """The id of each entry within its document (see the module docstring).
    ``links``: the entries' canonical links, when known."""
    if links is None:
        links = [web_url(p.link, p.base) for p in entries]
    ids = [_own_id(p, link) for p, link in zip(entries, links, strict=True)]
    titles: dict[int, str] = {}

    def title(i: int) -> str:
        if i not in titles:
            titles[i] = _identity_title(entries[i])
        return titles[i]

    shared = shared_links(entries, links, ids, title)
    for i, parsed in enumerate(entries):
        own = bool(parsed.id and parsed.id.strip())
        if not own and links[i] in shared:
            ids[i] = hashed_id(links[i], title(i))
    groups: dict[str, list[int]] = defaultdict(list)
    for i, eid in enumerate(ids):
        groups[eid].append(i)
    for eid, members in groups.items():
        if len(members) > 1 and len({(links[i], title(i)) for i in members}) > 1:
            for i in members:
                ids[i] = hashed_id(eid, links[i], title(i))
    kept: set[str] = set()
    out: list[str | None] = []
    for eid in ids:
        out.append(None if eid in kept else eid)
        kept.add(eid)
    return DocumentIds(out, shared)


def shared_links(
    entries: Sequence[ParsedEntry],
    links: Sequence[str],
    ids: Sequence[str],
    title: Callable[[int], str],
) -> set[str]:
    """The links that two or more different stories of a document carry: entries with
    different ids of their own, or (without ids) with different titles. An exact repeat of one
    story is not a second story."""
    stories: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for i, parsed in enumerate(entries):
        if links[i]:
            own = bool(parsed.id and parsed.id.strip())
            stories[links[i]].add((ids[i], "") if own else ("", title(i)))
    return {link for link, found in stories.items() if len(found) > 1}


def content_hash(
    *,
    title: str,
    link: str,
    authors: Iterable[str] = (),
    tags: Iterable[str] = (),
    summary: str = "",
    content: str = "",
    image: Image | None = None,
    enclosures: Iterable[Enclosure] = (),
) -> str:
    """sha256 (hex) over what readers see; timestamps are deliberately not part of it."""
    payload = {
        "title": title,
        "link": link,
        "authors": list(authors),
        "tags": list(tags),
        "summary": summary,
        "content": content,
        "image": asdict(image) if image is not None else None,
        "enclosures": [asdict(e) for e in enclosures],
    }
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- entries


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        v = v.strip()
        if v and v not in seen:
            seen[v] = None
    return tuple(seen)


def _mime_type(value: str, invalid: str) -> str:
    """``type/subtype`` without parameters; "" for ""; ``invalid`` for anything else."""
    value = value.split(";", 1)[0].strip()
    if not value:
        return ""
    return value if _MIME_TYPE.fullmatch(value) else invalid


def _size(value: int | None) -> int | None:
    """A non-negative integer that fits a BIGINT, else None."""
    if isinstance(value, int) and 0 <= value <= MAX_INT:
        return value
    return None


def _image(image: Image | None, base: str) -> Image | None:
    if image is None:
        return None
    url = web_url(image.url, base)
    if not url:
        return None
    image_type = _mime_type(image.type, "")
    return Image(
        url=url,
        caption=plain_text(image.caption),
        credit=plain_text(image.credit),
        width=_size(image.width),
        height=_size(image.height),
        type=image_type if image_type.lower().startswith("image/") else "",
    )


def _enclosures(enclosures: Iterable[Enclosure], base: str) -> tuple[Enclosure, ...]:
    out: dict[str, Enclosure] = {}
    for e in enclosures:
        url = web_url(e.url, base)
        if url and url not in out:
            out[url] = Enclosure(
                url=url,
                type=_mime_type(e.type, DEFAULT_ENCLOSURE_TYPE),
                length=_size(e.length) or 0,
            )
    return tuple(out.values())


def normalize_entry(
    parsed: ParsedEntry,
    source_id: str,
    feed_url: str,
    now: datetime,
    first_seen: Mapping[str, datetime] | None = None,
    eid: str | None = None,
    link: str | None = None,
) -> Entry:
    """One ParsedEntry as an Entry (see normalize_feed); ``eid`` is its id and ``link`` its
    canonical link, when already known."""
    now = utc(now)
    base = parsed.base or feed_url
    if link is None:
        link = web_url(parsed.link, base)
    eid = eid or _own_id(parsed, link if parsed.base else None)
    seen = utc(first_seen[eid]) if first_seen and eid in first_seen else now

    published = parsed.published or parsed.updated
    published = seen if published is None or utc(published) > now else utc(published)
    updated = utc(parsed.updated) if parsed.updated is not None else published
    if updated > now:
        updated = seen
    updated = max(published, updated)

    summary = sanitize_html(parsed.summary, base)
    content = sanitize_html(parsed.content, base)
    title = plain_title(parsed.title)
    if not title:
        text = plain_text(summary) or plain_text(content)
        title = cut(text, TITLE_FROM_TEXT_LENGTH) if text else UNTITLED

    authors = _dedupe(plain_text(a) for a in parsed.authors)
    tags = _dedupe(storable_text(c) for c in parsed.categories)
    image = _image(parsed.image, base)
    enclosures = _enclosures(parsed.enclosures, base)
    return Entry(
        source_id=source_id,
        id=eid,
        title=title,
        link=link,
        published=published,
        updated=updated,
        authors=authors,
        tags=tags,
        summary=summary,
        content=content,
        image=image,
        enclosures=enclosures,
        content_hash=content_hash(
            title=title,
            link=link,
            authors=authors,
            tags=tags,
            summary=summary,
            content=content,
            image=image,
            enclosures=enclosures,
        ),
    )


def normalize_feed(
    feed: ParsedFeed,
    source_id: str,
    feed_url: str,
    now: datetime,
    first_seen: Mapping[str, datetime] | None = None,
    published: Mapping[str, datetime] | None = None,
) -> list[Entry]:
    """The feed's entries, normalized, in document order.

    ``first_seen`` maps the ids of the source's stored entries to when the store first saw
    them (empty on the source's first fetch), ``published`` to the time they are stored with.
    Ids follow ``document_ids``: distinct stories stay distinct, exact repeats are dropped.
    Entries without a usable date are dated by the fetch, with distinct times in document
    order, and keep the time they are stored with (see the module docstring).
    """
    now = utc(now)
    built: list[tuple[ParsedEntry, Entry]] = []
    try:
        links = [web_url(p.link, p.base or feed_url) for p in feed.entries]
        ids, shared = document_ids(feed.entries, links)
    except Exception as e:  # a bug here or in nh3: a ParseError for this body, as a value
        raise ParseError(f"cannot identify entries ({type(e).__name__}: {str(e)[:200]})") from e
    for number, (parsed, eid, link) in enumerate(zip(feed.entries, ids, links, strict=True), 1):
        if eid is None:
            continue
        try:
            entry = normalize_entry(parsed, source_id, feed_url, now, first_seen, eid, link)
            if entry.link and link in shared:
                entry = dataclasses.replace(entry, link_shared=True)
            built.append((parsed, entry))
        except Exception as e:  # a bug here or in nh3: a ParseError for this body, as a value
            detail = str(e)[:200]
            raise ParseError(
                f"cannot normalize entry {number} of {len(feed.entries)} "
                f"({type(e).__name__}: {detail})"
            ) from e
    return _date_by_fetch(built, now, first_seen or {}, published or {})


_SECOND = timedelta(seconds=1)


def _date_by_fetch(
    built: list[tuple[ParsedEntry, Entry]],
    now: datetime,
    first_seen: Mapping[str, datetime],
    stored: Mapping[str, datetime],
) -> list[Entry]:
    """The entries, those without a usable date given distinct times (module docstring): an
    entry already stored keeps its stored time, so that its place never moves when the rest
    of the document changes."""
    own: list[datetime | None] = []
    for parsed, _ in built:
        stated = parsed.published or parsed.updated
        own.append(utc(stated) if stated is not None else None)
    if all(stated is not None and stated <= now for stated in own):
        return [entry for _, entry in built]  # the usual case: every date is usable
    used: set[datetime] = set()
    for (_, entry), stated in zip(built, own, strict=True):
        if stated is not None and stated <= now:
            used.update((entry.published, entry.updated))
    dated = [stated for stated in own if stated is not None and stated <= now]
    below_dated = min(dated) - _SECOND if dated else None
    # The time of the source's first fetch, as far as the store remembers (None: this is it).
    earliest = utc(min(first_seen.values())) if first_seen else None
    out: list[Entry] = []
    # Where to look for a free second, per proposed time: linear however many entries share
    # one (an undated document of thousands).
    next_free: dict[datetime, datetime] = {}
    for (parsed, entry), stated in zip(built, own, strict=True):
        if stated is not None and stated <= now:
            out.append(entry)
            continue
        seen = utc(first_seen[entry.id]) if entry.id in first_seen else None
        first_fetch = earliest is None or seen == earliest
        if stated is None and entry.id in stored:
            proposed = utc(stored[entry.id])
        elif stated is None and first_fetch and below_dated is not None:
            proposed = below_dated
        else:
            proposed = seen or now
        when = next_free.get(proposed, proposed)
        while when in used:
            when -= _SECOND
        used.add(when)
        next_free[proposed] = when - _SECOND
        updated = utc(parsed.updated) if parsed.updated is not None else when
        updated = max(when, updated if updated <= now else when)
        out.append(dataclasses.replace(entry, published=when, updated=updated))
    return out
