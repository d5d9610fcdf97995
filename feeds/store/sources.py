"""Upstream sources: their fetch state, refresh writes, and the fetch log.

Storing a refresh touches several concerns: the source's new state, its entries and their
retention (entries.py), the counters (counters.py) and the fetch log. `save_refreshes`
composes them inside one write transaction, so a crash mid-update leaves the database as it
was before that refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.store import codec
from feeds.store.counters import count_fetches
from feeds.store.engine import Database, chunks
from feeds.store.entries import apply_retention, drop_tombstones, upsert_entries
from feeds.store.schema import entries, fetches, sources
from feeds.store.webhooks import queue_source_events
from feeds.types import (
    Entry,
    EntryTimes,
    EventType,
    FetchRecord,
    FetchResult,
    RefreshWrite,
    SourceState,
    SourceStatus,
    StoredRefresh,
)

log = logging.getLogger(__name__)

# An executemany statement (parameters named so that they do not clash with column names).
_UPDATE_SOURCE = (
    sources.update()
    .where(sources.c.id == sa.bindparam("_sid"))
    .values({name: sa.bindparam(f"_v_{name}") for name in codec.STATUS_COLUMNS})
)


class SourcesMixin(Database):
    """Sources' configuration and fetch state, refresh writes and the fetch log."""

    def sync_sources(self, configured: Mapping[str, tuple[str, str]]) -> None:
        """Make the sources table match the config: {id: (url, config_hash)}.

        A source whose config changed starts afresh (validators, failures, a 410 "gone" state
        and a remembered redirect are forgotten); its entries stay.
        """
        with self._write() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(sources))}
            for source_id, (url, config_hash) in configured.items():
                row = rows.get(source_id)
                if row is None:
                    conn.execute(
                        sources.insert().values(
                            id=source_id,
                            url=url,
                            state=SourceState.NEW.value,
                            failures=0,
                            config_hash=config_hash,
                        )
                    )
                elif row.config_hash != config_hash:
                    conn.execute(
                        sources.update()
                        .where(sources.c.id == source_id)
                        .values(
                            url=url,
                            config_hash=config_hash,
                            state=SourceState.NEW.value,
                            etag=None,
                            last_modified=None,
                            body_hash=None,
                            failures=0,
                            next_fetch=None,
                            moved_to=None,
                            suspect_since=None,
                        )
                    )

    def source_statuses(self) -> dict[str, SourceStatus]:
        """Every source's state with its entry count (which costs a scan of the entries:
        for display; use source_states where the count is not needed)."""
        with self._read() as conn:
            counts: dict[str, int] = dict(
                conn.execute(
                    sa.select(entries.c.source_id, sa.func.count()).group_by(entries.c.source_id)
                ).all()
            )
        return {
            sid: replace(status, entry_count=int(counts.get(sid, 0)))
            for sid, status in self.source_states().items()
        }

    def source_states(self) -> dict[str, SourceStatus]:
        """Every source's state in one query (without entry counts, as source_status)."""
        with self._read() as conn:
            rows = conn.execute(sa.select(sources).order_by(sources.c.id))
            return {r.id: codec.status_from_row(r) for r in rows}

    def source_status(self, source_id: str) -> SourceStatus | None:
        """One source's state (without its entry count: that would cost a scan)."""
        with self._read() as conn:
            row = conn.execute(sa.select(sources).where(sources.c.id == source_id)).first()
        return None if row is None else codec.status_from_row(row)

    def moved_urls(self) -> dict[str, str]:
        """{source id: new URL} of every source that moved permanently (a light query)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(sources.c.id, sources.c.moved_to).where(sources.c.moved_to.is_not(None))
            )
            return {r.id: r.moved_to for r in rows}

    def last_response(self) -> datetime | None:
        """When any upstream last answered at all (any HTTP status): proof our network works."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(sa.func.max(sources.c.last_fetch)).where(
                    sources.c.last_http_status.is_not(None)
                )
            ).scalar_one_or_none()
        return value if isinstance(value, datetime) else None

    def entry_times(self, source_id: str) -> EntryTimes:
        """When each of a source's stored entries was first seen, and the time it is stored
        with (what normalizing its next body needs to keep undated entries in place)."""
        first_seen: dict[str, datetime] = {}
        published: dict[str, datetime] = {}
        with self._read() as conn:
            rows = conn.execute(
                sa.select(entries.c.id, entries.c.first_seen, entries.c.published).where(
                    entries.c.source_id == source_id
                )
            )
            for r in rows:
                first_seen[r.id] = r.first_seen
                published[r.id] = r.published
        return EntryTimes(first_seen, published)

    def save_refresh(
        self,
        status: SourceStatus,
        result: FetchResult,
        new_entries: Sequence[Entry] | None,
        now: datetime,
        *,
        max_items: int | None = None,
        max_age: timedelta | None = None,
        event: EventType | None = None,
    ) -> StoredRefresh:
        """Store one refresh atomically: the source's new state, its entries, the fetch log,
        the metrics counters, and retention (entries beyond `max_items` or older than `max_age`
        are removed, except those in this fetch, and remembered so they never come back).

        Returns the new and updated entry counts. An entry counts as updated only when its
        content hash changed; its `updated` time then moves forward. A result for a source
        whose config changed while it was fetched is dropped: (0, 0). ``event`` (a
        webhooks' source event) is queued in the same transaction.
        """
        write = RefreshWrite(status, result, new_entries, now, max_items, max_age, event=event)
        return self.save_refreshes([write])[0]

    def save_refreshes(self, writes: Sequence[RefreshWrite]) -> list[StoredRefresh]:
        """Store several refreshes in one transaction (all or none); see save_refresh.

        Refreshes without entries (not modified, failures) are written together: a handful
        of statements for all of them, rather than a handful each.
        """
        # Encoded before the write transaction starts, so that it holds the lock less long.
        rows = [[codec.entry_values(e) for e in w.entries] if w.entries else [] for w in writes]
        with self._write() as conn:
            plain = [w for w in writes if not w.entries]
            if len(plain) > 1:
                save_plain(conn, plain)
            return [
                save_one(conn, w, r) if w.entries or len(plain) <= 1 else StoredRefresh(0, 0)
                for w, r in zip(writes, rows, strict=True)
            ]

    def recent_fetches(self, source_id: str, limit: int = 20) -> list[FetchRecord]:
        """A source's fetch log, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(fetches)
                .where(fetches.c.source_id == source_id)
                .order_by(fetches.c.at.desc(), fetches.c.id.desc())
                .limit(limit)
            )
            return [codec.fetch_record_from_row(r) for r in rows]

    def prune(
        self,
        now: datetime,
        fetch_log: timedelta = timedelta(days=14),
        tombstones_unseen: timedelta = timedelta(days=90),
    ) -> tuple[int, int]:
        """Drop fetch-log rows older than `fetch_log` and tombstones of entries no upstream
        has listed for `tombstones_unseen`. Returns (fetch rows, tombstones) removed."""
        with self._write() as conn:
            old_fetches = conn.execute(fetches.delete().where(fetches.c.at < now - fetch_log))
            old_tombstones = drop_tombstones(conn, now - tombstones_unseen)
            return int(old_fetches.rowcount or 0), old_tombstones


def save_plain(conn: Connection, writes: Sequence[RefreshWrite]) -> None:
    """Refreshes without entries, in bulk: source states, counters, fetch log."""
    ids = [w.status.id for w in writes]
    stored: dict[str, Any] = {}
    for chunk in chunks(ids, 500):
        for row in conn.execute(
            sa.select(sources.c.id, sources.c.config_hash, sources.c.last_fetch).where(
                sources.c.id.in_(chunk)
            )
        ):
            stored[row.id] = row
    current = [w for w in writes if not outdated(w, stored.get(w.status.id))]
    queue_source_events(conn, current)
    updates = [
        {"_sid": w.status.id, **{f"_v_{k}": v for k, v in codec.status_values(w.status).items()}}
        for w in current
        if w.status.id in stored
    ]
    if updates:
        conn.execute(_UPDATE_SOURCE, updates)
    inserts = [
        {"id": w.status.id, "config_hash": w.status.config_hash, **codec.status_values(w.status)}
        for w in current
        if w.status.id not in stored
    ]
    if inserts:
        conn.execute(sources.insert(), inserts)
    count_fetches(conn, [(w.status.id, w.result, 0, 0) for w in current])
    if current:
        conn.execute(
            fetches.insert(),
            [codec.fetch_values(w.status.id, w.result, w.now, 0, 0) for w in current],
        )


def save_one(conn: Connection, w: RefreshWrite, rows: list[dict[str, Any]]) -> StoredRefresh:
    """One refresh: the source's state, its entries (`rows` encoded by codec.entry_values)
    and their retention, the counters and the fetch log."""
    status = w.status
    values = codec.status_values(status)
    row = conn.execute(
        sa.select(sources.c.id, sources.c.config_hash, sources.c.last_fetch).where(
            sources.c.id == status.id
        )
    ).first()
    if outdated(w, row):
        return StoredRefresh(0, 0)
    queue_source_events(conn, [w])
    if row is None:
        conn.execute(
            sources.insert().values(id=status.id, config_hash=status.config_hash, **values)
        )
    else:
        conn.execute(sources.update().where(sources.c.id == status.id).values(**values))
    new = updated = 0
    if w.entries:
        new, updated = upsert_entries(conn, status.id, w.entries, rows, w.now)
        if w.max_items is not None or w.max_age is not None:
            apply_retention(
                conn, status.id, {e.id for e in w.entries}, w.now, w.max_items, w.max_age
            )
    count_fetches(conn, [(status.id, w.result, new, updated)])
    conn.execute(
        fetches.insert().values(**codec.fetch_values(status.id, w.result, w.now, new, updated))
    )
    return StoredRefresh(new, updated)


def outdated(w: RefreshWrite, row: Any) -> bool:
    """Whether a refresh no longer applies: an editor changed the source while it was
    fetched (its config hash moved), or another process stored a newer refresh of it.
    `row` is the source's stored id, config_hash and last_fetch (None: not stored yet)."""
    if row is None:
        return False
    if row.config_hash != w.status.config_hash:
        log.info("source %s changed while it was fetched: result dropped", w.status.id)
        return True
    if w.check_previous and row.last_fetch != w.previous_fetch:
        log.info("source %s was refreshed elsewhere meanwhile: result dropped", w.status.id)
        return True
    return False
