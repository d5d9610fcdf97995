"""What an XML document declares before its root element, and the refusal of entities.

A document whose DOCTYPE declares entities (``<!ENTITY`` in the internal subset, general or
parameter, or a parameter-entity reference) is refused: "not a feed: document declares
entities (refused)". Real feeds do not need them, and feedparser is not safe with them: its
``replace_doctype`` strips declarations only with line-anchored regexes, so a DOCTYPE on the XML
declaration's line reaches expat intact and expat expands nested entities (bounded only by
expat >= 2.4's amplification limit: ~20 MB and ~1 s per document, more on older expat).
External entities and DTDs are never fetched (feedparser turns off external general entities;
the adapter drops an external DOCTYPE anyway); an unresolved reference stays as text.

The scan reads the very UTF-8 text the parsers read (the adapter converts the body once, see
``feeds.parse.feedparser_adapter``), so no encoding (UTF-16/32, EBCDIC cp037/cp500, ...) can
make the scanner and a parser see different characters. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeds.errors import ParseError

__all__ = ["Prolog", "prolog", "refuse_entities", "scan_doctype"]

_NAME_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")


@dataclass(frozen=True)
class Prolog:
    """What the prolog of a document declares."""

    has_doctype: bool
    declares_entities: bool


def prolog(body: bytes) -> Prolog:
    """What the XML prolog (everything before the root element) of a UTF-8 body declares.

    ``body`` is what the XML parsers read (see the module docstring); NULs are ignored. The
    scan follows the prolog grammar (XML declaration, comments, processing instructions,
    whitespace, one DOCTYPE with an optional internal subset, quoted literals inside it). When
    the scan cannot reach a root element start tag (the document is not what it claims), any
    ``<!ENTITY`` anywhere counts, so a scanner/parser disagreement can only refuse more, never
    less.
    """
    s = body.replace(b"\x00", b"")
    n = len(s)
    pos = 0
    has_doctype = False
    while pos < n:
        if s[pos] in b" \t\r\n\xef\xbb\xbf\xfe\xff":  # whitespace and stray BOM bytes
            pos += 1
        elif s.startswith(b"<?", pos):
            end = s.find(b"?>", pos + 2)
            pos = n if end < 0 else end + 2
        elif s.startswith(b"<!--", pos):
            end = s.find(b"-->", pos + 4)
            pos = n if end < 0 else end + 3
        elif s[pos : pos + 9].upper() == b"<!DOCTYPE":
            has_doctype = True
            pos, entities = scan_doctype(s, pos + 9)
            if entities:
                return Prolog(has_doctype=True, declares_entities=True)
        else:
            break
    root_found = _NAME_START.match(s, pos) is not None
    if not root_found and b"<!ENTITY" in s.upper():
        return Prolog(has_doctype=has_doctype, declares_entities=True)
    return Prolog(has_doctype=has_doctype, declares_entities=False)


def scan_doctype(s: bytes, pos: int) -> tuple[int, bool]:
    """Skip a DOCTYPE from just after ``<!DOCTYPE``: (the position after it, declares entities).

    Any ``<!ENTITY`` declaration (general or parameter) or parameter-entity reference in the
    internal subset counts as declaring entities.
    """
    n = len(s)
    in_subset = False
    entities = False
    while pos < n:
        c = s[pos : pos + 1]
        if c in (b'"', b"'"):
            end = s.find(c, pos + 1)
            pos = n if end < 0 else end + 1
        elif in_subset and s.startswith(b"<!--", pos):
            end = s.find(b"-->", pos + 4)
            pos = n if end < 0 else end + 3
        elif in_subset and s.startswith(b"<?", pos):
            end = s.find(b"?>", pos + 2)
            pos = n if end < 0 else end + 2
        elif in_subset and s[pos : pos + 8].upper() == b"<!ENTITY":
            entities = True
            pos += 8
        elif in_subset and c == b"%":
            entities = True  # a parameter-entity reference: an external DTD pulled in
            pos += 1
        elif c == b"[":
            in_subset = True
            pos += 1
        elif c == b"]":
            in_subset = False
            pos += 1
        elif c == b">" and not in_subset:
            return pos + 1, entities
        else:
            pos += 1
    return n, entities


def refuse_entities(body: bytes) -> None:
    """Raise ParseError when the UTF-8 ``body`` declares entities (see the module docstring)."""
    if prolog(body).declares_entities:
        raise ParseError("not a feed: document declares entities (refused)")
