"""ParsedFeed -> [Entry]: ids, dates, canonical URLs, sanitised absolute HTML, hashes.

Pure functions; the current time is passed in. The only module importing nh3.

Decisions:

- Repeated ids within one feed: the first occurrence wins, later ones are dropped (feeds list
  newest first, and a store keyed by id could not hold both anyway).
- An empty title becomes the first words (at most 80 characters, cut at a word, with "…") of
  the plain-text summary, else of the content; with neither it is "(untitled)".
- Only http(s) links, image and enclosure URLs with a host (and a valid port, if any) are kept;
  anything else, including what ``urlsplit`` rejects (``http://[x/``), becomes "" (link) or is
  dropped (image, enclosure).
- Every string of an Entry is storable and valid XML text: characters XML 1.0 forbids (C0
  controls but tab/newline/return, NUL which PostgreSQL also rejects, U+FFFE/U+FFFF) and lone
  surrogates are removed from the title, link, authors, tags, summary, content and the image
  and enclosure fields.
- Ids: the upstream guid/id is kept when it is a sane string: at most MAX_ID_BYTES bytes of
  UTF-8 (so a tag: URI made from it still fits a 2000-character column), no control characters
  or lone surrogates, and one ``urlsplit`` accepts, with a valid port when it has a host.
  Anything else becomes "sha256:" + the sha256 of the id, so one odd upstream id can never
  break storage or merging; the same rule applies to a link used as the id.
- MIME types (enclosure, image) are ``type/subtype`` tokens (``image/...`` for an image);
  parameters are dropped; anything else becomes "" (image) or "application/octet-stream"
  (enclosure; a missing type stays "", which render publishes as application/octet-stream).
  Enclosure lengths and image sizes are between 0 and 2**63-1 (else 0 / None).
- ``normalize_feed`` raises ParseError and nothing else: an unexpected exception while
  normalizing becomes a ParseError naming the entry and the problem.
- canonical_url drops an empty fragment and a fragment made only of tracking parameters
  (``#xtor=RSS-1``); a real anchor (``#section-2``) is kept because it may be the point.
- Images' caption and credit, authors are plain text.
- near_duplicate_key: one trailing " - Source" / " | Source" / " — Source" segment of at most
  four words is dropped from the title (wire titles as partners republish them); letters and
  digits of every script are kept, combining marks (accents written separately, Arabic
  harakat), punctuation, symbols and controls are dropped, so "don’t" and "dont" agree.
"""

from __future__ import annotations

import functools
import hashlib
import html as htmllib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import nh3

from feeds.errors import ParseError
from feeds.types import Enclosure, Entry, Image, ParsedEntry, ParsedFeed

__all__ = [
    "canonical_url",
    "content_hash",
    "entry_id",
    "near_duplicate_key",
    "normalize_entry",
    "normalize_feed",
    "plain_text",
    "sanitize_html",
    "strip_tracking",
]

UNTITLED = "(untitled)"
TITLE_FROM_TEXT_LENGTH = 80
MAX_ID_BYTES = 500
MAX_INT = 2**63 - 1  # BIGINT
DEFAULT_ENCLOSURE_TYPE = "application/octet-stream"

# Not allowed in XML 1.0 text (NUL is also refused by PostgreSQL), and lone surrogates (which
# cannot be encoded at all).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Never in an id: control characters (C0, DEL, C1), lone surrogates, U+FFFE/U+FFFF.
_ID_INVALID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MIME_TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MIME_TYPE = re.compile(f"{_MIME_TOKEN}/{_MIME_TOKEN}")

_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "twclid",
        "ttclid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "__twitter_impression",
        "xtor",
        "echobox",
    }
)
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_WEB_SCHEMES = frozenset({"http", "https"})

_TAGS = frozenset(
    {
        "a",
        "abbr",
        "audio",
        "b",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "source",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "u",
        "ul",
        "video",
    }
)
# Removed together with everything inside them.
_CLEAN_CONTENT_TAGS = frozenset(
    {"script", "style", "iframe", "object", "embed", "form", "template", "frameset", "noembed"}
)
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "dir", "title"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "source": {"src", "srcset", "sizes", "type", "media", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed", "type"},
}
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "poster"})

_BLOCK_TAG = re.compile(
    r"<\s*(?:br|hr|/?(?:p|div|li|dt|dd|h[1-6]|tr|td|th|blockquote|figure|figcaption|"
    r"ul|ol|dl|table|section|article|header|footer|pre))\b[^>]*>",
    re.IGNORECASE,
)
_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------- URLs


def _is_tracking(name: str) -> bool:
    key = unquote(name).strip().lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _strip_params(query: str) -> str:
    """Drop tracking parameters, keeping every other one byte for byte and in order."""
    if not query:
        return query
    kept = [p for p in query.split("&") if p and not _is_tracking(p.split("=", 1)[0])]
    return "&".join(kept)


def _noise_fragment(fragment: str) -> bool:
    if not fragment:
        return True
    parts = [p for p in fragment.split("&") if p]
    return bool(parts) and all("=" in p and _is_tracking(p.split("=", 1)[0]) for p in parts)


def strip_tracking(url: str) -> str:
    """``url`` without tracking parameters (query and fragment); nothing else changes."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    query = _strip_params(parts.query)
    fragment = parts.fragment
    if fragment and _noise_fragment(fragment):
        fragment = ""
    if (query, fragment) == (parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, fragment))


def canonical_url(url: str, base: str | None = None) -> str:
    """An absolute, canonical form of ``url`` (resolved against ``base`` when relative).

    Lower-cases scheme and host, drops the default port, an empty path becomes "/", strips
    tracking parameters and noise fragments; keeps everything else as is. "" for "".
    """
    url = url.strip()
    if not url:
        return ""
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        netloc = parts.netloc
        if parts.hostname is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            host, port = parts.hostname, parts.port
            if ":" in host:  # IPv6 literal
                host = f"[{host}]"
            hostport = (
                host
                if port is None or str(port) == _DEFAULT_PORTS.get(scheme)
                else (f"{host}:{port}")
            )
            netloc = f"{userinfo}@{hostport}" if userinfo else hostport
    except ValueError:  # an invalid port or IPv6 literal: leave the URL alone
        return url
    path = parts.path or ("/" if netloc and scheme in _WEB_SCHEMES else "")
    fragment = "" if _noise_fragment(parts.fragment) else parts.fragment
    return urlunsplit((scheme, netloc, path, _strip_params(parts.query), fragment))


def _web_url(url: str | None, base: str | None) -> str:
    """canonical_url, or "" unless the result is an http(s) URL with a host and a valid port."""
    if not url:
        return ""
    try:
        result = canonical_url(_clean(url), base)
        parts = urlsplit(result)
        if parts.scheme not in _WEB_SCHEMES or not parts.netloc:
            return ""
        if ":" in parts.netloc or "@" in parts.netloc:  # a port or userinfo: look closer
            if not parts.hostname:
                return ""
            parts.port  # noqa: B018  # raises ValueError when out of range or not a number
    except ValueError:
        return ""
    return result


# --------------------------------------------------------------------------- HTML


def _resolve(value: str, base: str) -> str | None:
    """An absolute URL with a safe scheme, or None."""
    value = value.strip()
    if not value:
        return None
    absolute = urljoin(base, value)
    scheme = urlsplit(absolute).scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        return None
    return absolute


def _srcset(value: str, base: str) -> str | None:
    """Resolve each candidate of a srcset (URL, then optional descriptors, comma separated)."""
    out: list[str] = []
    pos, n = 0, len(value)
    while pos < n:
        while pos < n and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < n and not value[pos].isspace():
            pos += 1
        url = value[start:pos]
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = value.find(",", pos)
            end = n if end < 0 else end
            descriptor = " ".join(value[pos:end].split())
            pos = end + 1
        if not url:
            continue
        resolved = _resolve(url, base)
        if resolved is not None:
            out.append(f"{resolved} {descriptor}".strip())
    return ", ".join(out) or None


def sanitize_html(html: str, base: str) -> str:
    """Safe article HTML: an allowlist of tags and attributes, absolute http(s)/mailto URLs.

    Scripts, styles, frames, objects, forms, event handlers and inline styles go; relative URLs
    in href/src/srcset/poster/cite resolve against ``base``; javascript:, vbscript: and data:
    URLs are removed; links lose their tracking parameters and get rel="noopener noreferrer".
    """
    if not html or not html.strip():
        return ""
    # nh3 keeps control characters, even ones written as references (&#1;)
    return _clean(_nh3(_cleaner(base), html)).strip()


@functools.lru_cache(maxsize=64)
def _cleaner(base: str) -> nh3.Cleaner:
    """The sanitize_html cleaner for one base URL (building one costs more than most cleans;
    a feed's entries nearly always share the feed's base)."""

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        # nh3 reports an exception through sys.unraisablehook: never raise from here.
        try:
            if attr in _URL_ATTRIBUTES:
                resolved = _resolve(value, base)
                if resolved is not None and tag == "a" and attr == "href":
                    resolved = strip_tracking(resolved)
                return resolved
            if attr == "srcset":
                return _srcset(value, base)
            return value
        except Exception:
            return None

    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ATTRIBUTES.items()},
        attribute_filter=attribute_filter,
        url_schemes=set(_SAFE_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
    )


def _clean(text: str) -> str:
    """``text`` without characters XML 1.0 forbids, NUL and lone surrogates."""
    if text.isprintable():  # no controls, surrogates or noncharacters: the common case, fast
        return text
    return _XML_INVALID.sub("", text)


def _nh3(cleaner: nh3.Cleaner, html: str) -> str:
    """``cleaner.clean(html)``; nh3 takes valid UTF-8 only, so lone surrogates go first."""
    try:
        return cleaner.clean(html)
    except UnicodeEncodeError:
        return cleaner.clean(_clean(html))


# Tags removed, the text of scripts and styles too (the same as nh3.clean with these options).
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})


def plain_text(html_or_text: str) -> str:
    """Text without tags, entities unescaped, whitespace collapsed (for titles and names)."""
    if not html_or_text:
        return ""
    spaced = _BLOCK_TAG.sub(" ", html_or_text)
    text = htmllib.unescape(_nh3(_TEXT_CLEANER, spaced))
    return _WHITESPACE.sub(" ", _clean(text)).strip()


def _shorten(text: str, limit: int = TITLE_FROM_TEXT_LENGTH) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


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


def _sha256(*parts: str) -> str:
    # surrogatepass: the same bytes as "utf-8" for every valid string, and no error otherwise
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _sane_id(value: str, split_checked: bool = False) -> bool:
    """Whether ``value`` can be stored and merged as an id as it is (see the module docstring).

    ``split_checked``: ``value`` is known to split, with a valid port (a ``_web_url`` result).
    """
    if len(value) > MAX_ID_BYTES or _ID_INVALID.search(value):
        return False
    if not value.isascii() and len(value.encode("utf-8")) > MAX_ID_BYTES:
        return False
    # Without "//" there is no netloc, so urlsplit has nothing to reject (tab/CR/LF, which it
    # deletes first, are already refused above).
    if split_checked or "//" not in value:
        return True
    try:
        parts = urlsplit(value)
        if parts.netloc:
            parts.port  # noqa: B018  # raises ValueError when out of range or not a number
    except ValueError:
        return False
    return True


def _stable_id(value: str, split_checked: bool = False) -> str:
    return value if _sane_id(value, split_checked) else "sha256:" + _sha256(value)


def entry_id(parsed: ParsedEntry) -> str:
    """The upstream's guid/id, else its canonical link, else a hash of what it says.

    Stable across fetches of an unchanged entry. An id or link that is not a sane id (see the
    module docstring) is replaced by "sha256:" and its hash.
    """
    if parsed.id and parsed.id.strip():
        return _stable_id(parsed.id.strip())
    link = _web_url(parsed.link, parsed.base)
    if link:
        return _stable_id(link, split_checked=True)
    return "sha256:" + _sha256(parsed.title, parsed.summary, parsed.content)


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


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # within a day of year 1 or 9999 with an offset: the nearest limit
        limit = datetime.min if value.year == datetime.min.year else datetime.max
        return limit.replace(microsecond=0, tzinfo=UTC)


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
    url = _web_url(image.url, base)
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
        url = _web_url(e.url, base)
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
) -> Entry:
    """One ParsedEntry as an Entry (see normalize_feed); ``eid`` is its ``entry_id`` when
    already known."""
    now = _utc(now)
    eid = eid or entry_id(parsed)
    seen = _utc(first_seen[eid]) if first_seen and eid in first_seen else now

    published = parsed.published or parsed.updated
    published = seen if published is None or _utc(published) > now else _utc(published)
    updated = _utc(parsed.updated) if parsed.updated is not None else published
    if updated > now:
        updated = seen
    updated = max(published, updated)

    base = parsed.base or feed_url
    summary = sanitize_html(parsed.summary, base)
    content = sanitize_html(parsed.content, base)
    title = plain_text(parsed.title)
    if not title:
        text = plain_text(summary) or plain_text(content)
        title = _shorten(text) if text else UNTITLED

    link = _web_url(parsed.link, base)
    authors = _dedupe(plain_text(a) for a in parsed.authors)
    tags = _dedupe(_clean(c) for c in parsed.categories)
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
) -> list[Entry]:
    """The feed's entries, normalized, in document order.

    ``first_seen`` maps entry ids to when the store first saw them: an entry without a date, or
    dated in the future of ``now``, gets that time (else ``now``), so its date stays stable
    across fetches. Repeated ids: the first occurrence is kept, later ones are dropped.
    """
    entries: list[Entry] = []
    ids: set[str] = set()
    for number, parsed in enumerate(feed.entries, 1):
        try:
            eid = entry_id(parsed)
            if eid in ids:
                continue
            ids.add(eid)
            entries.append(normalize_entry(parsed, source_id, feed_url, now, first_seen, eid))
        except Exception as e:  # a bug here or in nh3: a ParseError for this body, as a value
            detail = str(e)[:200]
            raise ParseError(
                f"cannot normalize entry {number} of {len(feed.entries)} "
                f"({type(e).__name__}: {detail})"
            ) from e
    return entries
