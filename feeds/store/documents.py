"""Rendered documents, stored with their ETag, Last-Modified and a gzip copy.

A document is identified by (feed, variant, page, format): page 0 is a feed's current
(subscription) document, page N its RFC 5005 archive page N (written by the archives concern,
through `insert_page`); variant "" is the feed's own document, and a partners' variant of the
current document is named by its content mode ("full", "summary"). The web process serves
these bytes as they are.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.ids import etag
from feeds.store import codec
from feeds.store.engine import Database, chunks
from feeds.store.schema import documents
from feeds.times import utc
from feeds.types import Document, Format

# gzip level of the stored copies: 6 is within 0.3 % of 9 in size on feed documents and
# ~30 % faster, which matters because every changed document is compressed on publish.
GZIP_LEVEL = 6
CURRENT = 0  # the page number of a feed's current document
# The feed formats: the table also holds the feeds' HTML views (format "html", see views.py).
FEED_FORMATS = tuple(fmt.value for fmt in Format)


class DocumentsMixin(Database):
    """Put, get and validate rendered documents."""

    def put_document(self, feed: str, fmt: Format, body: bytes, now: datetime) -> bool:
        """Store one rendered document unless the same bytes are stored; see put_documents."""
        return fmt in self.put_documents(feed, {fmt: body}, now)

    def put_documents(
        self,
        feed: str,
        bodies: Mapping[Format, bytes],
        now: datetime,
        *,
        variant: str = "",
        omitted: Mapping[Format, int] | None = None,
    ) -> list[Format]:
        """Store a feed's current documents (of one variant) whose bytes changed, in one
        transaction; ``omitted`` counts, per format, the items left out for the byte budget.

        Returns the formats that changed. Unchanged bytes cost one read and no write (the
        same bytes hold the same items, so they omit as many). Last-Modified is the time the
        bytes were first stored, always later than the previous one (so If-Modified-Since
        stays honest).
        """
        docs = [
            Unpacked(variant, fmt.value, body, fmt.content_type, (omitted or {}).get(fmt, 0))
            for fmt, body in bodies.items()
        ]
        packed = pack(docs, self.current_etags(feed))
        if not packed:
            return []
        written = self.put_packed(feed, packed, now)
        return [fmt for fmt in bodies if (variant, fmt.value) in written]

    def current_etags(self, feed: str) -> dict[tuple[str, str], str]:
        """The ETags of a feed's current documents, every variant, and of its view:
        {(variant, format): etag}, format as stored ("rss", ..., "html")."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(documents.c.variant, documents.c.format, documents.c.etag).where(
                    documents.c.feed == feed, documents.c.page == CURRENT
                )
            )
            return {(r.variant, r.format): r.etag for r in rows}

    def put_packed(
        self, feed: str, docs: Sequence[PackedDocument], now: datetime
    ) -> set[tuple[str, str]]:
        """Store these current documents of a feed (see ``pack``) in one transaction, each
        unless the same bytes are stored by now; returns the (variant, format) written.
        One read, then one statement for the documents replaced and one for the new ones."""
        if not docs:
            return set()
        with self._write() as conn:
            return write_packed(conn, feed, docs, now)

    def get_document(
        self, feed: str, fmt: Format, page: int = CURRENT, variant: str = ""
    ) -> Document | None:
        """A feed's current document (page 0) or one of its archive pages."""
        with self._read() as conn:
            r = conn.execute(sa.select(documents).where(_key(feed, page, fmt, variant))).first()
        return None if r is None else codec.document_from_row(r)

    def document_etag(
        self, feed: str, fmt: Format, page: int = CURRENT, variant: str = ""
    ) -> str | None:
        """The current ETag only (the web process's cache asks Store.current_etag, the same
        query through a connection of its own)."""
        with self._read() as conn:
            value = conn.execute(
                ETAG_OF, {"feed": feed, "variant": variant, "page": page, "format": fmt.value}
            ).scalar()
        return None if value is None else str(value)

    def has_document(self, feed: str, fmt: Format, page: int = CURRENT, variant: str = "") -> bool:
        return self.document_etag(feed, fmt, page, variant) is not None

    def document_etags(self) -> dict[tuple[str, Format], str]:
        """The ETag of every feed's own current documents: {(feed, format): etag}."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(documents.c.feed, documents.c.format, documents.c.etag).where(
                    documents.c.page == CURRENT,
                    documents.c.variant == "",
                    documents.c.format.in_(FEED_FORMATS),
                )
            )
            return {(r.feed, Format(r.format)): r.etag for r in rows}

    def keep_variants(self, feed: str, variants: Iterable[str]) -> int:
        """Remove the partners' variants of a feed that no partner reads any more."""
        names = set(variants) | {""}
        with self._write() as conn:
            query = documents.delete().where(
                documents.c.feed == feed, documents.c.variant.not_in(names)
            )
            return int(conn.execute(query).rowcount or 0)

    def delete_documents(self, keep: Iterable[str]) -> int:
        """Remove the current documents (every variant) of feeds no longer configured.

        Their archive pages and archive membership stay: a feed that comes back continues its
        archive where it stopped, and a page once served as immutable never changes.
        """
        names = set(keep)
        current = documents.c.page == CURRENT
        with self._write() as conn:
            stored = conn.execute(sa.select(documents.c.feed).where(current).distinct())
            gone = [d for d in stored.scalars().all() if d not in names]
            removed = 0
            for chunk in chunks(gone, 500):
                query = documents.delete().where(current, documents.c.feed.in_(chunk))
                removed += int(conn.execute(query).rowcount or 0)
            return removed


def insert_page(
    conn: Connection,
    feed: str,
    page: int,
    bodies: Mapping[Format, bytes],
    packed: Mapping[Format, bytes],
    now: datetime,
) -> None:
    """Write every format of one page of a feed (replacing any), inside the caller's write
    transaction; `packed` holds the gzip copies (see gzip_all)."""
    conn.execute(documents.delete().where(documents.c.feed == feed, documents.c.page == page))
    for fmt, body in bodies.items():
        conn.execute(
            documents.insert().values(
                feed=feed,
                variant="",
                page=page,
                format=fmt.value,
                body=body,
                gzip=packed[fmt],
                etag=etag(body),
                last_modified=utc(now),
                content_type=fmt.content_type,
            )
        )


class Unpacked(NamedTuple):
    """A current document (or view) as rendered: see ``pack``."""

    variant: str
    format: str  # a Format's value, or "html" (a view)
    body: bytes
    content_type: str
    omitted: int  # items left out for the byte budget


class PackedDocument(NamedTuple):
    """A current document ready to store (``put_packed``): with its ETag and gzip copy."""

    variant: str
    format: str
    body: bytes
    gzip: bytes
    etag: str
    content_type: str
    omitted: int


def pack(docs: Sequence[Unpacked], stored: Mapping[tuple[str, str], str]) -> list[PackedDocument]:
    """The documents among ``docs`` whose bytes differ from the ``stored`` ETags (see
    ``current_etags``), with their ETags and gzip copies (compressed side by side). No
    database access: a publish packs outside its write transaction."""
    tagged = [(doc, etag(doc.body)) for doc in docs]
    todo = [(doc, tag) for doc, tag in tagged if stored.get((doc.variant, doc.format)) != tag]
    packed = gzip_all([doc.body for doc, _ in todo])
    return [
        PackedDocument(doc.variant, doc.format, doc.body, gz, tag, doc.content_type, doc.omitted)
        for (doc, tag), gz in zip(todo, packed, strict=True)
    ]


def write_packed(
    conn: Connection, feed: str, docs: Sequence[PackedDocument], now: datetime
) -> set[tuple[str, str]]:
    """``put_packed`` inside the caller's write transaction."""
    old = {
        (r.variant, r.format): r
        for r in conn.execute(
            sa.select(
                documents.c.variant,
                documents.c.format,
                documents.c.etag,
                documents.c.last_modified,
            ).where(documents.c.feed == feed, documents.c.page == CURRENT)
        )
    }
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    written = set()
    for doc in docs:
        key = (doc.variant, doc.format)
        stored = old.get(key)
        if stored is not None and stored.etag == doc.etag:
            continue
        modified = utc(now)
        if stored is not None and modified <= stored.last_modified:
            modified = stored.last_modified + timedelta(seconds=1)
        values = {
            "body": doc.body,
            "gzip": doc.gzip,
            "etag": doc.etag,
            "last_modified": modified,
            "content_type": doc.content_type,
            "omitted": doc.omitted,
        }
        if stored is None:
            inserts.append(
                {"feed": feed, "variant": doc.variant, "page": CURRENT}
                | {"format": doc.format, **values}
            )
        else:
            updates.append(
                {"_feed": feed, "_variant": doc.variant, "_format": doc.format}
                | {f"_v_{name}": value for name, value in values.items()}
            )
        written.add(key)
    if updates:
        conn.execute(_UPDATE_CURRENT, updates)
    if inserts:
        conn.execute(documents.insert(), inserts)
    return written


# One executemany statement replacing current documents (parameter names that do not clash
# with the column names).
_UPDATE_CURRENT = (
    documents.update()
    .where(
        documents.c.feed == sa.bindparam("_feed"),
        documents.c.variant == sa.bindparam("_variant"),
        documents.c.page == CURRENT,
        documents.c.format == sa.bindparam("_format"),
    )
    .values(
        {
            name: sa.bindparam(f"_v_{name}")
            for name in ("body", "gzip", "etag", "last_modified", "content_type", "omitted")
        }
    )
)

# built once: building a statement costs more than running it (the web process's freshness
# check runs it compiled, for every request it serves from its cache)
ETAG_OF = sa.select(documents.c.etag).where(
    documents.c.feed == sa.bindparam("feed"),
    documents.c.variant == sa.bindparam("variant"),
    documents.c.page == sa.bindparam("page"),
    documents.c.format == sa.bindparam("format"),
)


def _key(feed: str, page: int, fmt: Format, variant: str = "") -> sa.ColumnElement[bool]:
    return (
        (documents.c.feed == feed)
        & (documents.c.variant == variant)
        & (documents.c.page == page)
        & (documents.c.format == fmt.value)
    )


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


_compressors: ThreadPoolExecutor | None = None
_compressors_lock = threading.Lock()


def gzip_all(bodies: Sequence[bytes]) -> list[bytes]:
    """The stored gzip copies of several documents. zlib lets go of the GIL while it
    compresses, so the documents of a feed are compressed side by side on as many cores."""
    global _compressors
    if len(bodies) < 2:
        return [_gzip(body) for body in bodies]
    with _compressors_lock:
        if _compressors is None:
            _compressors = ThreadPoolExecutor(max_workers=len(Format), thread_name_prefix="gzip")
    others = [_compressors.submit(_gzip, body) for body in bodies[1:]]
    return [_gzip(bodies[0]), *(future.result() for future in others)]


class PublishedDocumentsMixin(Database):
    """What the status page reads of the published documents."""

    def current_documents(self) -> list[Document]:
        """Every feed's own current documents (page 0, variant ""), by feed and format: with
        their Last-Modified (when they were published) and what they left out for the byte
        budget."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(documents)
                .where(
                    documents.c.page == CURRENT,
                    documents.c.variant == "",
                    documents.c.format.in_(FEED_FORMATS),
                )
                .order_by(documents.c.feed, documents.c.format)
            )
            return [codec.document_from_row(r) for r in rows]
