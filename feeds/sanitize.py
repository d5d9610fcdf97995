"""Upstream and local HTML made safe, and HTML made plain text: the only nh3 user.

- ``sanitize_html`` keeps an allowlist of tags and attributes: no scripts, styles, frames,
  objects, forms, event handlers or inline styles; relative URLs in href/src/srcset/poster/cite
  resolve against the base; javascript:, vbscript: and data: URLs are removed; links lose their
  tracking parameters and get rel="noopener noreferrer"; comments go.
- ``plain_text`` drops every tag (the text of scripts and styles too), unescapes entities and
  collapses white space: for titles, names and summaries.
- Both return storable text (``feeds.text.storable_text``).
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from urllib.parse import urljoin, urlsplit

import nh3

from feeds.text import collapse, storable_text
from feeds.urls import strip_tracking

__all__ = ["plain_text", "sanitize_html"]

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

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
    """Safe HTML with absolute http(s)/mailto URLs (see the module docstring)."""
    if not html or not html.strip():
        return ""
    # nh3 keeps control characters, even ones written as references (&#1;)
    return storable_text(_nh3(_cleaner(base), html)).strip()


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


def _nh3(cleaner: nh3.Cleaner, html: str) -> str:
    """``cleaner.clean(html)``; nh3 takes valid UTF-8 only, so lone surrogates go first."""
    try:
        return cleaner.clean(html)
    except UnicodeEncodeError:
        return cleaner.clean(storable_text(html))


# Tags removed, the text of scripts and styles too (the same as nh3.clean with these options).
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})


def plain_text(html_or_text: str) -> str:
    """Text without tags, entities unescaped, whitespace collapsed (for titles and names)."""
    if not html_or_text:
        return ""
    spaced = _BLOCK_TAG.sub(" ", html_or_text)
    text = htmllib.unescape(_nh3(_TEXT_CLEANER, spaced))
    return collapse(storable_text(text))
