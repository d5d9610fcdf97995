"""Item marks: where the items of a serialized XML document are, whatever its layout.

The incremental renderer keeps the bytes of each item and splices them into the next document,
so a document is rendered in three parts: what precedes its items, each item's bytes, and what
follows them. To find the items in the bytes lxml writes, a sentinel comment (a mark) is put
before each item while feedgen builds the tree. After serialization each mark is removed with
the white space pretty printing put before it: what remains is byte for byte the document
without marks (lxml indents a comment as it would an element, and nothing else moves). The
items end where the closing tag of their parent (``</channel>``, ``</feed>``) begins, less the
white space before it: feedgen appends the items after everything else.

The text of items is always escaped (feedgen writes text and attribute values; we never give
it CDATA or XHTML content), so a comment in the output can only be a mark.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # feedgen's own XML library

from feeds.errors import FeedsError

__all__ = ["ItemMarks", "split_items"]

MARK = "feeds:item"
_MARK = f"<!--{MARK}-->".encode()
_SPACE = b" \t\r\n"


class ItemMarks:
    """Puts a mark before each item feedgen appends to a channel (RSS) or feed (Atom).

    feedgen runs the extensions of a feed, then builds each item in turn (running the item's
    extensions) and appends it: the feed's extension calls ``start`` with the parent, each
    item's extension calls ``before_item``, and the mark lands just before the item.
    ``split_items`` checks that it did.
    """

    def __init__(self) -> None:
        self._parent: Any = None

    def start(self, parent: Any) -> None:
        """The element the items are about to be appended to."""
        self._parent = parent

    def before_item(self) -> None:
        """Mark the place of the item being built: after every item appended so far."""
        if self._parent is None:  # pragma: no cover - a feedgen change
            raise FeedsError("unexpected feedgen behaviour: an item was built before its feed")
        self._parent.append(etree.Comment(MARK))


def split_items(
    body: bytes, count: int, item_end: bytes, parent_end: bytes
) -> tuple[bytes, list[bytes], bytes]:
    """``(head, pieces, tail)`` of a serialized document with ``count`` marked items: the
    bytes before the first item, each item's bytes (the white space before it included), and
    the bytes after the last item; their concatenation is the document without its marks.

    ``item_end`` closes an item (``</item>``), ``parent_end`` the element holding the items.
    """
    closing = body.rfind(parent_end)
    if closing < 0:  # pragma: no cover - a feedgen change
        raise FeedsError(f"unexpected document layout: no {parent_end.decode()}")
    end = _space_before(body, closing)
    marks = []
    at = body.find(_MARK)
    while at >= 0:
        marks.append(at)
        at = body.find(_MARK, at + len(_MARK))
    if len(marks) != count:
        raise FeedsError(f"unexpected document layout: {len(marks)} item marks, {count} items")
    if not marks:
        return body[:end], [], body[end:]
    stops = [_space_before(body, at) for at in marks[1:]]
    stops.append(end)
    pieces = [body[at + len(_MARK) : stop] for at, stop in zip(marks, stops, strict=True)]
    if not all(piece.endswith(item_end) for piece in pieces):  # pragma: no cover
        raise FeedsError("unexpected document layout: an item mark is not before its item")
    return body[: _space_before(body, marks[0])], pieces, body[end:]


def _space_before(body: bytes, at: int) -> int:
    """Where the white space that ends at ``at`` begins (``at`` when there is none)."""
    while at > 0 and body[at - 1] in _SPACE:
        at -= 1
    return at
