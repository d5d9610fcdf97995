"""One home for text rules: which characters text may hold, and cutting text at a word.

Standard library only. HTML to plain text lives with the sanitiser (``feeds.sanitize``), the
only user of nh3.

Two rules for characters, one inside the other:

- ``storable_text``: what is stored. No C0 control characters but tab, line feed and carriage
  return (XML 1.0 refuses them; PostgreSQL refuses NUL), no lone surrogates (they cannot be
  encoded), no U+FFFE/U+FFFF. Entries are cleaned so when they are normalized, and their
  content hashes are computed over this text.
- ``xml_text``: what is published. Storable text without DEL and the C1 controls
  (U+007F-U+009F) too, which XML 1.0 allows but discourages and validators reject. Render
  applies it to everything it publishes. It is not applied when storing: text decoded from a
  mislabelled charset often holds C1 characters, and cleaning them at store time would change
  the content hash of entries stored before, making them look corrected.
"""

from __future__ import annotations

import re

_NOT_STORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NOT_XML = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

ELLIPSIS = "…"
UNTITLED = "(untitled)"  # the title of an item that says nothing at all
# A title made from an entry's text: at most 80 characters, the ellipsis included.
TITLE_FROM_TEXT_LENGTH = 80
# A plain-text summary: at most 300 characters of text and the ellipsis.
SUMMARY_LENGTH = 300 + len(ELLIPSIS)
# Dropped from the end of a cut text before the ellipsis: a cut never ends "word,…" or "word -…".
_TRAILING = " ,;:.-–—"


def storable_text(value: str) -> str:
    """``value`` without the characters storage refuses (see the module docstring)."""
    if value.isprintable():  # no control, surrogate or noncharacter: decided without the regex
        return value
    return _NOT_STORABLE.sub("", value)


def xml_text(value: str) -> str:
    """``value`` without the characters a published XML document may not hold."""
    if value.isprintable():
        return value
    return _NOT_XML.sub("", value)


def collapse(text: str) -> str:
    """``text`` with every run of white space made one space, none at either end."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, "…" included: whole when it fits; else cut at
    the last space before the ellipsis (mid-word when there is none), trailing punctuation
    dropped. ``text`` is plain text with white space collapsed (``collapse``)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(ELLIPSIS), 0)]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(_TRAILING) + ELLIPSIS


# A value quoted in a problem message (a bad date, a URL that is not one): at most this many
# characters of it, the ellipsis included, so that a message never grows with its input.
QUOTE_LENGTH = 60


def clip(text: str, limit: int = QUOTE_LENGTH) -> str:
    """``text`` in at most ``limit`` characters: whole when it fits, else its start and "…"
    (cut anywhere: for messages, where ``cut``'s word boundaries do not matter)."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS


def quoted(text: str, limit: int = QUOTE_LENGTH) -> str:
    """``text`` clipped to ``limit`` characters, then quoted as Python does (``'x…'``)."""
    return repr(clip(text, limit))
