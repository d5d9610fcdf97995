"""One home for text rules: the characters XML refuses, and cutting text at a word.

Standard library only. HTML to plain text lives with the sanitiser (``feeds.sanitize``), the
only user of nh3.
"""

from __future__ import annotations

import re

# What XML 1.0 documents may hold, as published here: #x9 | #xA | #xD | [#x20-#x7E] |
# [#xA0-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. Removed: the C0 controls (but tab, line
# feed and carriage return; NUL is refused by PostgreSQL too), lone surrogates (they cannot be
# encoded), U+FFFE/U+FFFF, and DEL and the C1 controls (U+007F-U+009F), which XML 1.0 allows but
# discourages and validators reject.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ELLIPSIS = "…"
# Dropped from the end of a cut text before the ellipsis: a cut never ends "word,…" or "word -…".
_TRAILING = " ,;:.-–—"


def xml_text(value: str) -> str:
    """``value`` without the characters a published XML document may not hold (see above)."""
    if value.isprintable():  # no control, surrogate or noncharacter: decided without the regex
        return value
    return _NOT_XML_CHAR.sub("", value)


def is_xml_text(value: str) -> bool:
    """Whether ``value`` holds only characters a published XML document may hold."""
    return value.isprintable() or _NOT_XML_CHAR.search(value) is None


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: whole when it fits; else cut at the last space
    in the second half of the room (mid-word when there is none), trailing punctuation dropped,
    and "…" appended (counted in the limit). ``text`` is plain text, white space collapsed."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(_TRAILING) + ELLIPSIS
