"""RFC 5005 archives: every item a feed has shown, numbered, and the archive pages written.

Items are numbered in the order they joined the feed and their snapshot is kept, so that a
page renders the items as they were. A page is written once, every format in one
transaction, as documents of its feed with the page's number (see documents.insert_page),
and never changes, with one exception: a legal kill outranks immutability. A page holding an
item an editor hid or unhid, or a deleted article, is marked stale (``mark_stale``) and
written again by the next publish of its feed (``rewrite_archive_page``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from feeds.errors import StoreError
from feeds.store import codec
from feeds.store.documents import gzip_all, insert_page
from feeds.store.engine import Database, chunks
from feeds.store.schema import archive_pages, feed_items, webhook_events
from feeds.store.webhooks import item_events
from feeds.types import ArchivePage, Format, Item, ItemEvents


class ArchivesMixin(Database):
    """Record feed items and write archive pages."""

    def record_feed_items(
        self,
        feed: str,
        items: Sequence[Item],
        frozen_upto: int = 0,
        *,
        current: Sequence[Item] | None = None,
        events: ItemEvents | None = None,
        pages: list[ArchivePage] | None = None,
    ) -> int:
        """Remember the items of a feed's current document for its archive (RFC 5005).

        Items not seen in this feed before get the next sequence numbers, oldest first; the
        snapshot of known items is refreshed, except for items already on a written archive
        page (sequence <= `frozen_upto`). Returns the highest sequence number.

        With ``events``, the webhooks' item events are queued in the same transaction
        (store/webhooks.py): ``items`` are then the new or changed ones among ``current``,
        the feed's items now.

        With ``pages`` (an empty list), it receives the feed's archive pages
        (``archive_pages``), read in the same query as the record, and ``frozen_upto`` is the
        last number on them.

        One read (the feed's highest sequence number and the rows of ``items``, and of the
        items marked current when ``events`` are queued), then one statement per kind of
        write: the new rows, the events, the changed rows.
        """
        with self._write() as conn:
            ids = [i.id for i in items]
            top, archived, rows, written = _recorded(
                conn, feed, ids, events is not None, pages is not None
            )
            if pages is not None:
                pages[:] = written
                frozen_upto = pages[-1].last if pages else 0
            # Never a number of a written page: a deleted article leaves the record, and
            # when it held the highest number, a new item would take its place on that page.
            seq = max(int(top or 0), int(archived or 0))
            inserts: list[dict[str, Any]] = []
            changes: dict[str, dict[str, Any]] = {}  # item id: {column: new value}
            now_in = {i.id for i in (items if current is None else current)}
            ordered = sorted(items, key=lambda i: (i.published, i.id))
            for item in ordered:
                data = codec.dumps(codec.item_to_json(item))
                row = rows.get(item.id)
                if row is None:
                    seq += 1
                    insert = {"feed": feed, "item_id": item.id, "seq": seq, "data": data}
                    if events is not None:  # seen and current at once (see below)
                        insert |= {"seen_updated": item.updated, "current": item.id in now_in}
                    inserts.append(insert)
                elif row.seq > frozen_upto and row.data != data:
                    changes.setdefault(item.id, {})["data"] = data
            event_rows: list[dict[str, Any]] = []
            if events is not None:
                baseline = top is None  # the feed's first publish: its items are not news
                event_rows = item_events(feed, ordered, rows, now_in, baseline, events, changes)
            if inserts:
                conn.execute(feed_items.insert(), inserts)
            if event_rows:
                conn.execute(webhook_events.insert(), event_rows)
            _change_rows(conn, feed, changes)
            return seq

    def archive_pages(self, feed: str) -> list[ArchivePage]:
        """Every archive page written (number, first and last sequence), in order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(archive_pages)
                .where(archive_pages.c.feed == feed)
                .order_by(archive_pages.c.number)
            )
            return [ArchivePage(r.number, r.first_seq, r.last_seq, r.stale) for r in rows]

    def feed_items_range(self, feed: str, first: int, last: int) -> list[Item]:
        """The recorded items with sequence numbers first..last, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(feed_items.c.data)
                .where(
                    feed_items.c.feed == feed,
                    feed_items.c.seq >= first,
                    feed_items.c.seq <= last,
                )
                .order_by(feed_items.c.seq.desc())
            )
            return [codec.item_from_json(codec.loads(r.data)) for r in rows]

    def write_archive_page(
        self,
        feed: str,
        number: int,
        first: int,
        last: int,
        bodies: Mapping[Format, bytes],
        now: datetime,
    ) -> None:
        """Store every format of archive page `number` and its range in one transaction.

        A page another process wrote first is left as it is: pages never change."""
        if number < 1:
            raise StoreError(f"archive pages are numbered from 1, not {number}")
        packed = dict(zip(bodies, gzip_all(list(bodies.values())), strict=True))
        with self._write() as conn:
            exists = conn.execute(
                sa.select(archive_pages.c.number).where(
                    archive_pages.c.feed == feed, archive_pages.c.number == number
                )
            ).first()
            if exists is not None:
                return  # another process wrote this page first: it never changes
            conn.execute(
                archive_pages.insert().values(
                    feed=feed, number=number, first_seq=first, last_seq=last
                )
            )
            insert_page(conn, feed, number, bodies, packed, now)

    def rewrite_archive_page(
        self, feed: str, page: ArchivePage, bodies: Mapping[Format, bytes], now: datetime
    ) -> None:
        """Replace every format of a stale archive page and clear its mark, in one
        transaction. A page marked stale again meanwhile (another hide) stays marked."""
        packed = dict(zip(bodies, gzip_all(list(bodies.values())), strict=True))
        with self._write() as conn:
            cleared = conn.execute(
                archive_pages.update()
                .where(
                    archive_pages.c.feed == feed,
                    archive_pages.c.number == page.number,
                    archive_pages.c.stale == sa.true(),
                )
                .values(stale=False)
            )
            if cleared.rowcount:
                insert_page(conn, feed, page.number, bodies, packed, now)


def _recorded(
    conn: Connection, feed: str, ids: Sequence[str], with_current: bool, with_pages: bool
) -> tuple[int | None, int | None, dict[str, Any], list[ArchivePage]]:
    """The feed's highest sequence number (None before its first item), the last one on a
    written archive page (None before the first page), the recorded rows of ``ids`` (and
    of the items marked current, ``with_current``) and the feed's archive pages
    (``with_pages``, else none), in one query per 500 ids: the maxima (and the pages, as
    one string) joined with the rows."""
    top_seq = sa.select(sa.func.max(feed_items.c.seq)).where(feed_items.c.feed == feed)
    paged = sa.select(sa.func.max(archive_pages.c.last_seq)).where(archive_pages.c.feed == feed)
    heads = [top_seq.scalar_subquery().label("top"), paged.scalar_subquery().label("archived")]
    if with_pages:
        page: sa.ColumnElement[str] = sa.cast(archive_pages.c.number, sa.String)
        for column in (archive_pages.c.first_seq, archive_pages.c.last_seq):
            page = page + "," + sa.cast(column, sa.String)
        page = page + "," + sa.case((archive_pages.c.stale, "1"), else_="0")
        listed = sa.select(sa.func.aggregate_strings(page, ";")).where(archive_pages.c.feed == feed)
        heads.append(listed.scalar_subquery().label("pages"))
    head = sa.select(*heads).subquery()
    top: int | None = None
    archived: int | None = None
    listing: str | None = None
    rows: dict[str, Any] = {}
    for n, chunk in enumerate(list(chunks(ids, 500)) or [[]]):
        match: sa.ColumnElement[bool] = feed_items.c.item_id.in_(chunk)
        if n == 0 and with_current:
            match = match | feed_items.c.current.is_(True)
        query = sa.select(
            *head.c,
            feed_items.c.item_id,
            feed_items.c.seq,
            feed_items.c.data,
            feed_items.c.current,
            feed_items.c.seen_updated,
        ).select_from(head.outerjoin(feed_items, (feed_items.c.feed == feed) & match))
        for r in conn.execute(query):
            top, archived = r.top, r.archived
            listing = r.pages if with_pages else None
            if r.item_id is not None:
                rows[r.item_id] = r
    pages = []
    for text in listing.split(";") if listing else ():
        number, first, last, stale = (int(n) for n in text.split(","))
        pages.append(ArchivePage(number, first, last, bool(stale)))
    return top, archived, rows, sorted(pages)


def _change_rows(conn: Connection, feed: str, changes: dict[str, dict[str, Any]]) -> None:
    """Write ``changes`` ({item id: {column: value}}): one executemany per set of columns."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for item_id, values in changes.items():
        names = tuple(sorted(values))
        params = {"_id": item_id} | {f"_v_{name}": values[name] for name in names}
        shapes.setdefault(names, []).append(params)
    for names, batch in shapes.items():
        update = (
            feed_items.update()
            .where(feed_items.c.feed == feed, feed_items.c.item_id == sa.bindparam("_id"))
            .values({name: sa.bindparam(f"_v_{name}") for name in names})
        )
        conn.execute(update, batch)


def mark_stale(conn: Connection, item_ids: Sequence[str]) -> int:
    """Mark stale, inside the caller's write transaction, every archive page of any feed that
    holds one of ``item_ids``. Returns how many pages were marked."""
    held: list[tuple[str, int]] = []
    for chunk in chunks(list(item_ids), 500):
        held += [
            (r.feed, r.seq)
            for r in conn.execute(
                sa.select(feed_items.c.feed, feed_items.c.seq).where(
                    feed_items.c.item_id.in_(chunk)
                )
            )
        ]
    marked = 0
    for feed, seq in held:
        marked += conn.execute(
            archive_pages.update()
            .where(
                archive_pages.c.feed == feed,
                archive_pages.c.first_seq <= seq,
                archive_pages.c.last_seq >= seq,
                archive_pages.c.stale == sa.false(),
            )
            .values(stale=True)
        ).rowcount
    return marked
