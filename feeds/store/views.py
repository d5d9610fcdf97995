"""The feeds' HTML views: the page a browser opening a public feed shows, rendered by the
clock at publish time and stored beside the feed's documents.

A view is a row of the documents table with the format ``html`` (page 0, variant ""): no
schema change. The documents' own queries leave these rows out (``FEED_FORMATS``); the view
is removed with the feed's current documents when the feed leaves the config.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from feeds.store.documents import CURRENT, ETAG_OF, Unpacked, pack, write_packed
from feeds.store.engine import Database
from feeds.store.schema import documents
from feeds.types import View
from feeds.types.content import HTML_CONTENT_TYPE

VIEW_FORMAT = "html"  # the documents table's format value of a view


def _key(feed: str) -> sa.ColumnElement[bool]:
    return (
        (documents.c.feed == feed)
        & (documents.c.variant == "")
        & (documents.c.page == CURRENT)
        & (documents.c.format == VIEW_FORMAT)
    )


def view_document(body: bytes) -> Unpacked:
    """A feed's rendered view as a current document to store (see ``documents.pack``)."""
    return Unpacked("", VIEW_FORMAT, body, HTML_CONTENT_TYPE, 0)


class ViewsMixin(Database):
    """Put, get and drop the feeds' HTML views."""

    def put_view(self, feed: str, body: bytes, now: datetime) -> bool:
        """Store a feed's view unless the same bytes are stored; returns whether it changed.
        Last-Modified moves on as a document's does (see ``put_documents``)."""
        packed = pack([view_document(body)], {("", VIEW_FORMAT): self.view_etag(feed) or ""})
        if not packed:
            return False
        with self._write() as conn:
            return bool(write_packed(conn, feed, packed, now))

    def get_view(self, feed: str) -> View | None:
        """A feed's stored view, if it has one."""
        with self._read() as conn:
            r = conn.execute(sa.select(documents).where(_key(feed))).first()
        if r is None:
            return None
        return View(
            feed=r.feed,
            body=bytes(r.body),
            gzip=bytes(r.gzip),
            etag=r.etag,
            last_modified=r.last_modified,
            content_type=r.content_type,
        )

    def view_etag(self, feed: str) -> str | None:
        """The ETag of a feed's view only: a cheap query to validate a cached copy."""
        with self._read() as conn:
            value = conn.execute(
                ETAG_OF,
                {"feed": feed, "variant": "", "page": CURRENT, "format": VIEW_FORMAT},
            ).scalar()
        return None if value is None else str(value)

    def drop_view(self, feed: str) -> bool:
        """Remove a feed's view (a feed that became partners-only has none)."""
        if self.view_etag(feed) is None:
            return False
        with self._write() as conn:
            conn.execute(documents.delete().where(_key(feed)))
        return True
