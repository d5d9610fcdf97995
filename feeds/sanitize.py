"""Upstream and local HTML made safe, and HTML made plain text: the only nh3 user.

- ``sanitize_html`` keeps an allowlist of tags and attributes: no scripts, styles, frames,
  objects, forms, event handlers or inline styles; relative URLs in href/src/srcset/poster/cite
  resolve against the base; javascript:, vbscript: and data: URLs are removed; links lose their
  tracking parameters and get rel="noopener noreferrer"; comments go.
- What is removed keeps its text: an element outside the allowlist (``<font>``, ``<form>``,
  a custom element, ``<button>``, an ``<object>`` and its fallback text) is replaced by its
  content. The exceptions, removed with everything inside them, are ``CLEAN_CONTENT_TAGS``:
  script and style (code), and iframe, embed, noembed, frameset and template, whose content
  browsers read as raw or inert markup (or have none), never as text for readers.
- MathML and SVG (which nh3 drops whole, text included) are read first, with the standard
  library's HTML parser: a ``<math>`` becomes the text of its TeX annotation
  (``<annotation encoding="application/x-tex">``) when it has one, else its ``alttext``, else
  its text ("When you request n+1 bytes", not "When you request  bytes"); an ``<svg>``
  becomes its text (titles, descriptions, labels). Scripts and styles inside them, and
  annotations in other encodings, are not text.
- ``plain_text`` drops every tag (and the content of ``CLEAN_CONTENT_TAGS``), unescapes
  entities and collapses white space: for titles, names and summaries. MathML and SVG are
  read as above.
- Both return storable text (``feeds.text.storable_text``).
"""

from __future__ import annotations

import functools
import html as htmllib
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import nh3

from feeds.text import collapse, storable_text
from feeds.urls import strip_tracking

__all__ = ["CLEAN_CONTENT_TAGS", "plain_text", "plain_title", "sanitize_html"]

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
# Removed together with everything inside them (see the module docstring).
CLEAN_CONTENT_TAGS = frozenset(
    {"script", "style", "iframe", "embed", "template", "frameset", "noembed"}
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
    if _FOREIGN.search(html):
        html = foreign_as_text(html)
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
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
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


# Tags removed, with the content of CLEAN_CONTENT_TAGS (scripts, styles, fallback markup).
_TEXT_CLEANER = nh3.Cleaner(tags=set(), clean_content_tags=set(CLEAN_CONTENT_TAGS))


# HTML elements, as they may stand in a title that was escaped twice upstream.
_ELEMENT_TAG = re.compile(
    r"</?(?:a|abbr|acronym|address|article|aside|b|big|blockquote|br|center|cite|code|del|"
    r"dfn|div|em|figure|font|h[1-6]|hr|i|img|ins|kbd|li|mark|ol|p|pre|q|s|samp|section|small|"
    r"span|strike|strong|sub|sup|table|td|th|tr|tt|u|ul|var)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)


def plain_title(html_or_text: str) -> str:
    """A title as plain text (``plain_text``), and then, if HTML elements are still in it (the
    upstream escaped its markup twice, as WordPress's JSON Feed titles do), read as HTML once
    more: a published title never holds markup, escaped or not."""
    title = plain_text(html_or_text)
    return plain_text(title) if _ELEMENT_TAG.search(title) else title


def plain_text(html_or_text: str) -> str:
    """Text without tags, entities unescaped, whitespace collapsed (for titles and names)."""
    if not html_or_text:
        return ""
    if _FOREIGN.search(html_or_text):
        html_or_text = foreign_as_text(html_or_text)
    spaced = _BLOCK_TAG.sub(" ", html_or_text)
    text = htmllib.unescape(_nh3(_TEXT_CLEANER, spaced))
    return collapse(storable_text(text))


# --------------------------------------------------------------------------- MathML and SVG

_FOREIGN = re.compile(r"<(?:[\w.-]+:)?(?:math|svg)\b", re.IGNORECASE)
_FOREIGN_ROOTS = frozenset({"math", "svg"})
_TEX_ENCODINGS = frozenset({"application/x-tex", "text/x-tex"})
_NOT_TEXT = frozenset({"annotation", "annotation-xml", "script", "style"})


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


class _ForeignText(HTMLParser):
    """Finds the outermost ``<math>`` and ``<svg>`` elements of a fragment: where each starts
    and ends in the text, and the text that replaces it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html = html
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", html)]
        self.spans: list[tuple[int, int, str]] = []
        self.stack: list[tuple[str, str]] = []  # (tag, "text" | "tex" | "skip") inside a root
        self.start = 0
        self.root = ""
        self.alttext = ""
        self.parts: list[str] = []
        self.tex: list[str] = []

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        local = _local(tag)
        if not self.stack:
            if local in _FOREIGN_ROOTS:
                self.start, self.root = self._offset(), local
                self.alttext = next((v or "" for k, v in attrs if k == "alttext"), "")
                self.parts, self.tex = [], []
                self.stack.append((tag, "text"))
            return
        mode = self.stack[-1][1]
        if mode == "text" and local in _NOT_TEXT:
            encoding = next((v or "" for k, v in attrs if k == "encoding"), "")
            is_tex = local == "annotation" and encoding.strip().lower() in _TEX_ENCODINGS
            mode = "tex" if is_tex else "skip"
        self.stack.append((tag, mode))

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self.stack):
            return  # a stray end tag: ignored, as browsers do
        while self.stack:
            opened, _ = self.stack.pop()
            if opened == tag:
                break
        if not self.stack:
            end = self.html.find(">", self._offset())
            self._close(len(self.html) if end < 0 else end + 1)

    def handle_data(self, data: str) -> None:
        if self.stack:
            mode = self.stack[-1][1]
            if mode == "tex":
                self.tex.append(data)
            elif mode == "text":
                self.parts.append(data)

    def _close(self, end: int) -> None:
        self.stack.clear()
        tex = " ".join("".join(self.tex).split())
        separator = " " if self.root == "svg" else ""  # MathML tokens spell one formula
        text = tex or " ".join(self.alttext.split())
        if not text:
            text = " ".join(separator.join(self.parts).split())
        self.spans.append((self.start, end, htmllib.escape(text, quote=False)))

    def finish(self) -> list[tuple[int, int, str]]:
        self.close()
        if self.stack:  # never closed: it runs to the end of the fragment
            self._close(len(self.html))
        return self.spans


def foreign_as_text(html: str) -> str:
    """``html`` with each outermost ``<math>`` and ``<svg>`` replaced by its text (see the
    module docstring); everything else is left exactly as it was."""
    try:
        parser = _ForeignText(html)
        parser.feed(html)
        spans = parser.finish()
    except Exception:  # HTMLParser is lenient; never let this pass turn into a crash
        return html
    out: list[str] = []
    position = 0
    for start, end, text in spans:
        out.append(html[position:start])
        out.append(text)
        position = end
    out.append(html[position:])
    return "".join(out)
