"""Bytes -> ParsedFeed: RSS and Atom through feedparser, and JSON Feed 1.0/1.1.

Pure: no network, no clock. What comes out is the upstream document as stated (HTML still
unsanitised, relative references still relative to ``ParsedEntry.base``); ``normalize`` makes it
safe and canonical. ``ParsedEntry.title``, ``summary``, ``content`` and the image caption and
credit are always HTML, whichever format the entry came in.

One module per job; each keeps the decisions it implements in its docstring:

- ``prolog``: the XML prolog scan; a document declaring entities is refused.
- ``encoding``: which encoding a document is read in; UTF-7 is refused.
- ``feedparser_adapter``: the only module importing feedparser; RSS and Atom to ParsedFeed.
- ``media``: Media RSS read with the standard library, and the choice of an entry's image.
- ``jsonfeed``: JSON Feed 1.0 and 1.1.
- ``dates``: the only module importing dateparser; every date of every format, read from the
  text the document states, or left out (never guessed).
- ``discovery``: why a body is not a feed (binary formats, an HTML page and its feed link).

What was left out rather than guessed (dates that cannot be read) is said in
``ParsedFeed.warnings``, one short sentence each, for editors.

``parse`` raises ParseError and nothing else: an unexpected exception anywhere (a parser bug, a
document nested too deeply for the stack) becomes "not a feed: ..." with the original chained
(``raise ... from e``).
"""

from __future__ import annotations

from feeds.errors import ParseError
from feeds.parse import discovery, feedparser_adapter, jsonfeed
from feeds.types import ParsedFeed

__all__ = ["parse"]

_JSON_TYPES = ("application/feed+json", "application/json")


def parse(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an RSS, Atom or JSON Feed document fetched from ``url``.

    Raises ParseError when the body is not a feed (empty, an HTML page, garbage) or declares
    entities in its DOCTYPE (refused: see ``feeds.parse.prolog``), and never anything else.
    """
    try:
        return _parse(body, url, content_type)
    except ParseError:
        raise
    except RecursionError as e:
        raise ParseError("not a feed: document nested too deeply") from e
    except Exception as e:  # a bug here or in a library: still only this body's problem
        detail = discovery.detail(e)
        raise ParseError(f"not a feed: cannot parse ({type(e).__name__}: {detail})") from e


def _parse(body: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """JSON Feed when the body starts like JSON, or is served as JSON and not as markup; else
    RSS or Atom. Empty and well-known binary bodies are refused first."""
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise ParseError("not a feed: empty body")
    kind = discovery.binary_kind(body)
    if kind is not None:
        raise ParseError(f"not a feed: {kind}")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    # Through the modules' attributes, so that each reader can be replaced in a test.
    if head.startswith((b"{", b"[")) or (media_type in _JSON_TYPES and not head.startswith(b"<")):
        return jsonfeed.parse_json(body, url)
    return feedparser_adapter.parse_xml(body, url, content_type)
