"""Which encoding a feed is read in: feedparser's rule, one exception, and no UTF-7.

Encodings follow feedparser (RFC 3023/7303: the HTTP charset, else the XML declaration or BOM;
then whichever decodes, then utf-8, then windows-1252), with two exceptions where the header
charset is a server default rather than the publisher speaking (``effective_content_type``):

- a header charset that contradicts a body declaring UTF-8 (declaration or BOM) and valid as
  UTF-8 is ignored;
- a header charset of ``iso-8859-1`` or ``us-ascii`` (the defaults of HTTP servers and of
  RFC 3023) that contradicts the body's XML declaration yields to it when the body decodes in
  the declared encoding (a gb2312 or windows-1256 document served as iso-8859-1 would
  otherwise come out as mojibake; gb2312 is read as its superset gb18030, as feedparser does).

A body without any declaration follows the header.

UTF-7 (declared in the header or the XML declaration, or chosen by feedparser) is refused
outright: "not a feed: UTF-7 is not accepted"; no real feed uses it and it hides markup in
plain ASCII (``+ADw-``).

These are the rules only, standard library only; the adapter (``feeds.parse.feedparser_adapter``)
applies them around feedparser's own converter.
"""

from __future__ import annotations

import codecs
import re

from feeds.errors import ParseError

__all__ = [
    "charset",
    "declared_encoding",
    "effective_content_type",
    "refuse_utf7",
    "utf8_content_type",
]

_XML_DECLARED_ENCODING = re.compile(
    rb"^(?:\xef\xbb\xbf)?[ \t\r\n]*<\?xml[^>]*?"
    rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._:-]+)["']"""
)
_CHARSET_PARAMETER = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]*)\"?", re.IGNORECASE)


# Header charsets that are defaults rather than statements (codec names).
_SERVER_DEFAULTS = frozenset({"iso8859-1", "ascii"})
# What a declared encoding is decoded with (as feedparser does).
_DECODERS = {"gb2312": "gb18030"}


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type, as written."""
    match = _CHARSET_PARAMETER.search(content_type or "")
    return match.group(1) if match else None


def declared_encoding(body: bytes) -> str | None:
    """The encoding named by the body's XML declaration, as written."""
    match = _XML_DECLARED_ENCODING.match(body)
    return match.group(1).decode("ascii") if match else None


def effective_content_type(body: bytes, content_type: str | None) -> str | None:
    """The Content-Type to decode with: a header charset that is a server default yields to
    the document's own declaration (see the module docstring).

    RFC 7303 lets the header charset win, and feedparser does, repairing only what was decoded
    as ISO-8859-1. A server default (windows-1252, or the site's legacy charset) over a
    document that declares UTF-8 (XML declaration or BOM) and is valid UTF-8 would otherwise
    come out as mojibake ("â€”"). Valid UTF-8 with non-ASCII text is almost never anything
    else, so the document's own statement wins in exactly that case. ISO-8859-1 and US-ASCII
    are what servers say when nobody told them: a document declaring something else, and
    readable in it, is taken at its word.
    """
    if not content_type:
        return content_type
    match = _CHARSET_PARAMETER.search(content_type)
    header = _codec(match.group(1)) if match is not None else None
    if match is None or header in (None, "utf-8"):
        return content_type
    declared = declared_encoding(body)
    says_utf8 = body.startswith(b"\xef\xbb\xbf") or (
        declared is not None and _codec(declared) == "utf-8"
    )
    if says_utf8:
        chosen = "utf-8"
    elif header in _SERVER_DEFAULTS and declared is not None:
        chosen = declared
        if _codec(declared) in (None, header, "utf-7"):  # UTF-7 is refused later, as declared
            return content_type
    else:
        return content_type
    try:
        body.decode(_DECODERS.get(_codec(chosen) or "", chosen))
    except (UnicodeDecodeError, LookupError):
        return content_type
    return content_type[: match.start()] + f"; charset={chosen}" + content_type[match.end() :]


def refuse_utf7(*names: str | None) -> None:
    """Raise ParseError when any of these encoding names is UTF-7."""
    if any(name and _codec(name) == "utf-7" for name in names):
        raise ParseError("not a feed: UTF-7 is not accepted")


def utf8_content_type(content_type: str | None) -> str | None:
    """The Content-Type of the same document once converted to UTF-8 (None without one)."""
    media_type = (content_type or "").split(";", 1)[0].strip()
    return f"{media_type}; charset=utf-8" if media_type else None
