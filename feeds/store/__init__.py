"""The only SQLAlchemy user: one storage API over SQLite (embedded) and PostgreSQL.

Every write that belongs together happens in one transaction, so a crash mid-update leaves
the database as it was before that step. The schema is created and upgraded by the Alembic
migrations in ``migrations/``, applied automatically when a Store opens.
"""

from __future__ import annotations

import functools
import gzip
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from feeds.errors import StoreError
from feeds.ids import etag
from feeds.policy import retention_victims
from feeds.store import codec
from feeds.store.schema import (
    UTCDateTime,
    archive_pages,
    articles,
    counters,
    documents,
    entries,
    feed_items,
    fetches,
    hub_pings,
    sources,
    tombstones,
)
from feeds.times import utc
from feeds.types import (
    ArchivePage,
    Article,
    Document,
    Entry,
    FetchRecord,
    FetchResult,
    FetchStatus,
    Format,
    HubPing,
    Item,
    PendingPing,
    RefreshWrite,
    SourceCounters,
    SourceState,
    SourceStatus,
)

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///instance/feeds.db"
HEAD_REVISION = "0004"  # the newest migration; a test keeps this in step with migrations/
WRITE_LOCK_KEY = 7401167  # PostgreSQL advisory lock held by every write transaction
# gzip level of the stored copies: 6 is within 0.3 % of 9 in size on feed documents and
# ~30 % faster, which matters because every changed document is compressed on publish.
GZIP_LEVEL = 6
# A feed's newest entries are first looked for among this many times as many of the newest
# entries of all sources (Store._cutoff): enough for a feed over a tenth of the sources.
SCAN_FACTOR = 10
MIGRATIONS = Path(__file__).parent / "migrations"


def engine_url(url: str) -> str:
    """Accept the URLs people write and pick the drivers we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Store:
    """Storage for sources' fetch state, entries, articles and rendered documents."""

    def __init__(self, url: str = DEFAULT_URL, *, migrate: bool = True) -> None:
        self.url = engine_url(url)
        # SQLite has one writer at a time. Threads of this process queue on a lock rather than
        # in SQLite's busy handler, which polls with sleeps of up to 100 ms; other processes
        # still wait in the busy handler.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock()
            if sa.make_url(self.url).get_backend_name() == "sqlite"
            else nullcontext()
        )
        try:
            self.engine = self._create_engine(self.url)
            if migrate:
                self.migrate()
        except SQLAlchemyError as e:
            raise StoreError(f"cannot open database {sa.make_url(self.url)!r}: {e}") from e

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _create_engine(url: str) -> Engine:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() != "sqlite":
            engine = sa.create_engine(url, pool_pre_ping=True)

            @event.listens_for(engine, "begin")
            def _serialize_writers(conn: Connection) -> None:
                # Like SQLite's BEGIN IMMEDIATE: one writer at a time across every process
                # (clock, web, a `feeds update` by hand), so read-then-write steps cannot race.
                if conn.get_execution_options().get("feeds_write", False):
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

            return engine
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so that writers can BEGIN IMMEDIATE
            # (a deferred transaction that later writes can fail at once with "locked").
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("feeds_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def schema_revision(self) -> str | None:
        """The schema revision of the database (None when it has no schema yet)."""
        try:
            with self.engine.connect() as conn:
                value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError:
            return None
        return None if value is None else str(value[0])

    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema. Alembic is only loaded when there is work to do:
        a database already at HEAD_REVISION opens without it (faster start)."""
        if revision == "head" and self.schema_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as conn:
            conn.execution_options(feeds_write=True)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with self._write_lock, self.engine.connect() as conn:
                conn.execution_options(feeds_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as e:
            raise StoreError(f"database write failed: {e}") from e

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as e:
            raise StoreError(f"database read failed: {e}") from e

    # ------------------------------------------------------------------ sources

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
            return {r.id: self._status_from_row(r, 0) for r in rows}

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        with self._read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def source_status(self, source_id: str) -> SourceStatus | None:
        """One source's state (without its entry count: that would cost a scan)."""
        with self._read() as conn:
            row = conn.execute(sa.select(sources).where(sources.c.id == source_id)).first()
        return None if row is None else self._status_from_row(row, 0)

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

    @staticmethod
    def _status_from_row(r: Any, entry_count: int) -> SourceStatus:
        return SourceStatus(
            id=r.id,
            url=r.url,
            state=SourceState(r.state),
            etag=r.etag,
            last_modified=r.last_modified,
            body_hash=r.body_hash,
            last_fetch=r.last_fetch,
            last_success=r.last_success,
            last_http_status=r.last_http_status,
            last_error=r.last_error,
            failures=r.failures,
            next_fetch=r.next_fetch,
            moved_to=r.moved_to,
            entry_count=entry_count,
            config_hash=r.config_hash,
            suspect_since=r.suspect_since,
            feed_ttl=timedelta(seconds=r.feed_ttl) if r.feed_ttl else None,
        )

    def first_seen(self, source_id: str) -> dict[str, datetime]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(entries.c.id, entries.c.first_seen).where(
                    entries.c.source_id == source_id
                )
            )
            return {r.id: r.first_seen for r in rows}

    def save_refresh(
        self,
        status: SourceStatus,
        result: FetchResult,
        new_entries: Sequence[Entry] | None,
        now: datetime,
        *,
        max_items: int | None = None,
        max_age: timedelta | None = None,
    ) -> tuple[int, int]:
        """Store one refresh atomically: the source's new state, its entries, the fetch log,
        the metrics counters, and retention (entries beyond `max_items` or older than `max_age`
        are removed, except those in this fetch, and remembered so they never come back).

        Returns (new, updated) entry counts. An entry counts as updated only when its
        content hash changed; its `updated` time then moves forward. A result for a source
        whose config changed while it was fetched is dropped: (0, 0).
        """
        write = RefreshWrite(status, result, new_entries, now, max_items, max_age)
        return self.save_refreshes([write])[0]

    def save_refreshes(self, writes: Sequence[RefreshWrite]) -> list[tuple[int, int]]:
        """Store several refreshes in one transaction (all or none); see save_refresh.

        Refreshes without entries (not modified, failures) are written together: a handful
        of statements for all of them, rather than a handful each.
        """
        # Encoded before the write transaction starts, so that it holds the lock less long.
        rows = [[_entry_values(e) for e in w.entries] if w.entries else [] for w in writes]
        with self._write() as conn:
            plain = [w for w in writes if not w.entries]
            if len(plain) > 1:
                self._save_plain(conn, plain)
            return [
                self._save_one(conn, w, r) if w.entries or len(plain) <= 1 else (0, 0)
                for w, r in zip(writes, rows, strict=True)
            ]

    def _save_plain(self, conn: Connection, writes: Sequence[RefreshWrite]) -> None:
        """Refreshes without entries, in bulk: source states, counters, fetch log."""
        ids = [w.status.id for w in writes]
        stored: dict[str, Any] = {}
        for chunk in _chunks(ids, 500):
            for row in conn.execute(
                sa.select(sources.c.id, sources.c.config_hash, sources.c.last_fetch).where(
                    sources.c.id.in_(chunk)
                )
            ):
                stored[row.id] = row
        current = [w for w in writes if not _outdated(w, stored.get(w.status.id))]
        updates = [
            {"_sid": w.status.id, **{f"_v_{k}": v for k, v in _status_values(w.status).items()}}
            for w in current
            if w.status.id in stored
        ]
        if updates:
            conn.execute(_UPDATE_SOURCE, updates)
        inserts = [
            {"id": w.status.id, "config_hash": w.status.config_hash, **_status_values(w.status)}
            for w in current
            if w.status.id not in stored
        ]
        if inserts:
            conn.execute(sources.insert(), inserts)
        self._count_fetches(conn, [(w.status.id, w.result, 0, 0) for w in current])
        if current:
            conn.execute(
                fetches.insert(),
                [_fetch_values(w.status.id, w.result, w.now, 0, 0) for w in current],
            )

    def _save_one(
        self, conn: Connection, w: RefreshWrite, rows: list[dict[str, Any]]
    ) -> tuple[int, int]:
        status = w.status
        values = _status_values(status)
        row = conn.execute(
            sa.select(sources.c.id, sources.c.config_hash, sources.c.last_fetch).where(
                sources.c.id == status.id
            )
        ).first()
        if _outdated(w, row):
            return 0, 0
        if row is None:
            conn.execute(
                sources.insert().values(id=status.id, config_hash=status.config_hash, **values)
            )
        else:
            conn.execute(sources.update().where(sources.c.id == status.id).values(**values))
        new = updated = 0
        if w.entries:
            new, updated = self._upsert_entries(conn, status.id, w.entries, rows, w.now)
            if w.max_items is not None or w.max_age is not None:
                self._apply_retention(
                    conn, status.id, {e.id for e in w.entries}, w.now, w.max_items, w.max_age
                )
        self._count_fetches(conn, [(status.id, w.result, new, updated)])
        conn.execute(
            fetches.insert().values(**_fetch_values(status.id, w.result, w.now, new, updated))
        )
        return new, updated

    def _upsert_entries(
        self,
        conn: Connection,
        source_id: str,
        batch: Sequence[Entry],
        values: Sequence[dict[str, Any]],
        now: datetime,
    ) -> tuple[int, int]:
        """Insert new entries and update changed ones; `values[i]` is `_entry_values(batch[i])`.

        Inserts and updates each go to the database as one executemany."""
        existing: dict[str, Any] = {}
        unchanged: list[str] = []
        ids = [e.id for e in batch]
        for chunk in _chunks(ids, 500):
            for row in conn.execute(
                sa.select(entries.c.id, entries.c.content_hash, entries.c.updated).where(
                    entries.c.source_id == source_id, entries.c.id.in_(chunk)
                )
            ):
                existing[row.id] = row
        missing = [i for i in ids if i not in existing]
        removed: set[str] = set()
        for chunk in _chunks(missing, 500):
            removed.update(
                conn.execute(
                    sa.select(tombstones.c.id).where(
                        tombstones.c.source_id == source_id, tombstones.c.id.in_(chunk)
                    )
                ).scalars()
            )
        for chunk in _chunks(sorted(removed), 500):
            conn.execute(
                tombstones.update()
                .where(tombstones.c.source_id == source_id, tombstones.c.id.in_(chunk))
                .values(last_seen=now)
            )
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for entry, encoded in zip(batch, values, strict=True):
            old = existing.get(entry.id)
            if old is None and entry.id in removed:
                continue  # dropped by retention earlier: never comes back as new
            if old is None:
                inserts.append({**encoded, "first_seen": now, "last_seen": now})
            elif old.content_hash != entry.content_hash:
                stamp = entry.updated if entry.updated > old.updated else utc(now)
                changes = {**encoded, "updated": stamp, "last_seen": now}
                updates.append(
                    {"_sid": source_id, "_eid": entry.id}
                    | {f"_v_{name}": changes[name] for name in _UPDATED_COLUMNS}
                )
            else:
                unchanged.append(entry.id)
        if inserts:
            conn.execute(entries.insert(), inserts)
        if updates:
            conn.execute(_UPDATE_ENTRY, updates)
        for chunk in _chunks(unchanged, 500):
            conn.execute(
                entries.update()
                .where(entries.c.source_id == source_id, entries.c.id.in_(chunk))
                .values(last_seen=now)
            )
        return len(inserts), len(updates)

    def _apply_retention(
        self,
        conn: Connection,
        source_id: str,
        latest: set[str],
        now: datetime,
        max_items: int | None,
        max_age: timedelta | None,
    ) -> None:
        # Counted first (from the index alone): usually nothing is over a limit, and then the
        # source's rows need not be read.
        count = (
            sa.select(sa.func.count()).select_from(entries).where(entries.c.source_id == source_id)
        )
        over_items = max_items is not None and conn.execute(count).scalar_one() > max_items
        if not over_items and (
            max_age is None
            or not conn.execute(count.where(entries.c.published < now - max_age)).scalar_one()
        ):
            return
        rows = conn.execute(
            sa.select(entries.c.id, entries.c.published)
            .where(entries.c.source_id == source_id)
            .order_by(entries.c.published.desc(), entries.c.id)
        ).all()
        victims = retention_victims(
            [(r.id, r.published) for r in rows], latest, now, max_items, max_age
        )
        for chunk in _chunks(victims, 500):
            conn.execute(
                entries.delete().where(entries.c.source_id == source_id, entries.c.id.in_(chunk))
            )
            conn.execute(
                tombstones.delete().where(
                    tombstones.c.source_id == source_id, tombstones.c.id.in_(chunk)
                )
            )
            conn.execute(
                tombstones.insert(),
                [
                    {"source_id": source_id, "id": i, "removed": now, "last_seen": now}
                    for i in chunk
                ],
            )

    def _count_fetches(
        self, conn: Connection, done: Sequence[tuple[str, FetchResult, int, int]]
    ) -> None:
        """Add fetches to the per-source metrics counters: (source id, result, new, updated)."""
        deltas: dict[tuple[str, str], float] = {}
        for source_id, result, new, updated in done:
            for name, delta in codec.counter_deltas(result, new, updated):
                deltas[(source_id, name)] = deltas.get((source_id, name), 0.0) + delta
        known: set[tuple[str, str]] = set()
        ids = sorted({source_id for source_id, _ in deltas})
        for chunk in _chunks(ids, 500):
            for row in conn.execute(
                sa.select(counters.c.source_id, counters.c.name).where(
                    counters.c.source_id.in_(chunk)
                )
            ):
                known.add((row.source_id, row.name))
        increments = [
            {"_sid": sid, "_name": name, "_delta": delta}
            for (sid, name), delta in deltas.items()
            if (sid, name) in known
        ]
        if increments:
            conn.execute(_INCREMENT_COUNTER, increments)
        missing = [
            {"source_id": sid, "name": name, "value": delta}
            for (sid, name), delta in deltas.items()
            if (sid, name) not in known
        ]
        if missing:
            conn.execute(counters.insert(), missing)

    def counters(self) -> dict[str, SourceCounters]:
        """Every source's monotonic counters."""
        rows: dict[str, dict[str, float]] = {}
        with self._read() as conn:
            for r in conn.execute(sa.select(counters).order_by(counters.c.source_id)):
                rows.setdefault(r.source_id, {})[r.name] = float(r.value)
        return {sid: codec.counters_from_rows(values) for sid, values in rows.items()}

    def tombstone_count(self, source_id: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(tombstones)
                    .where(tombstones.c.source_id == source_id)
                ).scalar_one()
            )

    def recent_fetches(self, source_id: str, limit: int = 20) -> list[FetchRecord]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(fetches)
                .where(fetches.c.source_id == source_id)
                .order_by(fetches.c.at.desc(), fetches.c.id.desc())
                .limit(limit)
            )
            return [
                FetchRecord(
                    source_id=r.source_id,
                    at=r.at,
                    status=FetchStatus(r.status),
                    http_status=r.http_status,
                    duration_ms=r.duration,
                    size=r.size,
                    new=r.new,
                    updated=r.updated,
                    error=r.error,
                )
                for r in rows
            ]

    # ------------------------------------------------------------------ entries

    def recent_entries(
        self, source_ids: Iterable[str], limit: int, since: datetime | None = None
    ) -> list[Entry]:
        """The newest entries of these sources, newest first (ties broken by source and id).

        Two steps in one read transaction, so that a feed over a few sources among millions of
        entries stays cheap: publication times read from indexes alone give the time of the
        limit-th newest entry (see _cutoff); then only rows from that time on are read whole.
        """
        ids = list(dict.fromkeys(source_ids))
        if not ids or limit <= 0:
            return []
        with self._read() as conn:
            cutoff = self._cutoff(conn, ids, limit, since)
            query = sa.select(entries).where(entries.c.source_id.in_(ids))
            if cutoff is not None:
                query = query.where(entries.c.published >= cutoff)
            query = query.order_by(
                entries.c.published.desc(), entries.c.source_id, entries.c.id
            ).limit(limit)
            return [_entry_from_row(r) for r in conn.execute(query)]

    @staticmethod
    def _cutoff(
        conn: Connection, ids: list[str], limit: int, since: datetime | None
    ) -> datetime | None:
        """A time at or before the publication of the limit-th newest entry of these sources
        (`since` when they have fewer).

        First the newest `SCAN_FACTOR * limit` entries of all sources, read from the
        (published, source_id) index alone: when at least `limit` of them are these sources',
        the limit-th of those is exact (the usual case for a feed over many sources). Else
        the limit-th newest among each source's newest few, which can only be older than (or
        equal to) the true one.
        """
        scan: dict[str, Any] = {"ids": ids, "scan": SCAN_FACTOR * limit, "skip": limit - 1}
        if since is not None:
            scan["since"] = since
        found = conn.execute(_newest_time_scanned(since is not None), scan).scalar()
        if found is not None:
            return found  # type: ignore[no-any-return]
        per = max(8, -(-2 * limit // len(ids)))  # enough that only real scarcity falls short
        times: list[datetime] = []
        for chunk in _chunks(ids, 400):  # SQLite allows 500 terms in one compound select
            params: dict[str, Any] = {f"s{n}": sid for n, sid in enumerate(chunk)}
            params["per"] = per
            if since is not None:
                params["since"] = since
            rows = conn.execute(_newest_times(len(chunk), since is not None), params)
            times.extend(rows.scalars())
        if len(times) < limit:
            return since
        times.sort(reverse=True)
        return times[limit - 1]

    def count_entries(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one())

    # ------------------------------------------------------------------ articles

    def sync_articles(
        self, current: Sequence[Article], unreadable: Iterable[str] = ()
    ) -> tuple[int, int, int]:
        """Make the stored articles equal to `current`. Returns (added, updated, removed).

        `unreadable` are paths of files that exist but are invalid right now (an editor
        mid-edit): the article last stored from such a file stays until the file is fixed
        or deleted.
        """
        added = changed = removed = 0
        keep_paths = set(unreadable) - {a.path for a in current}
        with self._write() as conn:
            stored = {
                r.slug: (r.content_hash, r.path)
                for r in conn.execute(
                    sa.select(articles.c.slug, articles.c.content_hash, articles.c.path)
                )
            }
            wanted = {a.slug: a for a in current}
            for slug in stored.keys() - wanted.keys():
                if stored[slug][1] in keep_paths:
                    continue
                conn.execute(articles.delete().where(articles.c.slug == slug))
                removed += 1
            for slug, article in wanted.items():
                values = _article_values(article)
                if slug not in stored:
                    conn.execute(articles.insert().values(**values))
                    added += 1
                elif stored[slug][0] != article.content_hash:
                    conn.execute(articles.update().where(articles.c.slug == slug).values(**values))
                    changed += 1
        return added, changed, removed

    def articles(self) -> list[Article]:
        """Every stored article, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(articles.c.data).order_by(articles.c.published.desc(), articles.c.slug)
            )
            return [_article_from_json(codec.loads(r.data)) for r in rows]

    # ------------------------------------------------------------------ documents

    def put_document(self, feed: str, fmt: Format, body: bytes, now: datetime) -> bool:
        """Store one rendered document unless the same bytes are stored; see put_documents."""
        return fmt in self.put_documents(feed, {fmt: body}, now)

    def put_documents(
        self, feed: str, bodies: Mapping[Format, bytes], now: datetime
    ) -> list[Format]:
        """Store a feed's rendered documents whose bytes changed, in one transaction.

        Returns the formats that changed. Unchanged bytes cost one read and no write.
        Last-Modified is the time the bytes were first stored, always later than the
        previous one (so If-Modified-Since stays honest).
        """
        etags = {fmt: etag(body) for fmt, body in bodies.items()}
        stored = {
            fmt: tag for (name, fmt), tag in self._document_etags_of(feed).items() if name == feed
        }
        maybe = [fmt for fmt in bodies if stored.get(fmt) != etags[fmt]]
        if not maybe:
            return []
        packed = dict(zip(maybe, _gzip_all([bodies[fmt] for fmt in maybe]), strict=True))
        changed = []
        with self._write() as conn:
            for fmt in maybe:
                key = (documents.c.feed == feed) & (documents.c.format == fmt.value)
                old = conn.execute(
                    sa.select(documents.c.etag, documents.c.last_modified).where(key)
                ).first()
                if old is not None and old.etag == etags[fmt]:
                    continue
                modified = utc(now)
                if old is not None and modified <= old.last_modified:
                    modified = old.last_modified + timedelta(seconds=1)
                values = {
                    "body": bodies[fmt],
                    "gzip": packed[fmt],
                    "etag": etags[fmt],
                    "last_modified": modified,
                    "content_type": fmt.content_type,
                }
                if old is None:
                    conn.execute(documents.insert().values(feed=feed, format=fmt.value, **values))
                else:
                    conn.execute(documents.update().where(key).values(**values))
                changed.append(fmt)
        return changed

    def _document_etags_of(self, feed: str) -> dict[tuple[str, Format], str]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(documents.c.format, documents.c.etag).where(documents.c.feed == feed)
            )
            return {(feed, Format(r.format)): r.etag for r in rows}

    def get_document(self, feed: str, fmt: Format) -> Document | None:
        with self._read() as conn:
            r = conn.execute(
                sa.select(documents).where(
                    (documents.c.feed == feed) & (documents.c.format == fmt.value)
                )
            ).first()
        if r is None:
            return None
        return Document(
            feed=r.feed,
            format=Format(r.format),
            body=bytes(r.body),
            gzip=bytes(r.gzip),
            etag=r.etag,
            last_modified=r.last_modified,
            content_type=r.content_type,
        )

    def document_etag(self, feed: str, fmt: Format) -> str | None:
        """The current ETag only: a cheap query to validate a cached copy."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(documents.c.etag).where(
                    (documents.c.feed == feed) & (documents.c.format == fmt.value)
                )
            ).scalar_one_or_none()
        return None if value is None else str(value)

    def document_etags(self) -> dict[tuple[str, Format], str]:
        with self._read() as conn:
            rows = conn.execute(sa.select(documents.c.feed, documents.c.format, documents.c.etag))
            return {(r.feed, Format(r.format)): r.etag for r in rows}

    def delete_documents(self, keep: Iterable[str]) -> int:
        """Remove the current documents of feeds no longer configured.

        Their archive pages and archive membership stay: a feed that comes back continues its
        archive where it stopped, and a page once served as immutable never changes.
        """
        names = set(keep)
        with self._write() as conn:
            stored = conn.execute(sa.select(documents.c.feed).distinct()).scalars().all()
            gone = [d for d in stored if "/" not in d and d not in names]
            removed = 0
            for chunk in _chunks(gone, 500):
                result = conn.execute(documents.delete().where(documents.c.feed.in_(chunk)))
                removed += int(result.rowcount or 0)
            return removed

    # ------------------------------------------------------------------ archives

    def record_feed_items(self, feed: str, items: Sequence[Item], frozen_upto: int = 0) -> int:
        """Remember the items of a feed's current document for its archive (RFC 5005).

        Items not seen in this feed before get the next sequence numbers, oldest first; the
        snapshot of known items is refreshed, except for items already on a written archive
        page (sequence <= `frozen_upto`). Returns the highest sequence number.
        """
        with self._write() as conn:
            known: dict[str, tuple[int, str]] = {}
            ids = [i.id for i in items]
            for chunk in _chunks(ids, 500):
                for r in conn.execute(
                    sa.select(feed_items.c.item_id, feed_items.c.seq, feed_items.c.data).where(
                        feed_items.c.feed == feed, feed_items.c.item_id.in_(chunk)
                    )
                ):
                    known[r.item_id] = (r.seq, r.data)
            top = conn.execute(
                sa.select(sa.func.max(feed_items.c.seq)).where(feed_items.c.feed == feed)
            ).scalar_one_or_none()
            seq = int(top or 0)
            for item in sorted(items, key=lambda i: (i.published, i.id)):
                data = codec.dumps(codec.item_to_json(item))
                if item.id not in known:
                    seq += 1
                    conn.execute(
                        feed_items.insert().values(feed=feed, item_id=item.id, seq=seq, data=data)
                    )
                elif known[item.id][0] > frozen_upto and known[item.id][1] != data:
                    conn.execute(
                        feed_items.update()
                        .where(feed_items.c.feed == feed, feed_items.c.item_id == item.id)
                        .values(data=data)
                    )
            return seq

    def archive_pages(self, feed: str) -> list[ArchivePage]:
        """(number, first sequence, last sequence) of every archive page written, in order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(archive_pages)
                .where(archive_pages.c.feed == feed)
                .order_by(archive_pages.c.number)
            )
            return [ArchivePage(r.number, r.first_seq, r.last_seq) for r in rows]

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
        """Store every format of an archive page and its range in one transaction."""
        name = f"{feed}/archive/{number}"
        packed = dict(zip(bodies, _gzip_all(list(bodies.values())), strict=True))
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
            conn.execute(documents.delete().where(documents.c.feed == name))
            for fmt, body in bodies.items():
                conn.execute(
                    documents.insert().values(
                        feed=name,
                        format=fmt.value,
                        body=body,
                        gzip=packed[fmt],
                        etag=etag(body),
                        last_modified=utc(now),
                        content_type=fmt.content_type,
                    )
                )

    def has_document(self, name: str, fmt: Format) -> bool:
        return self.document_etag(name, fmt) is not None

    # ------------------------------------------------------------------ WebSub

    def queue_hub_ping(self, hub: str, topic: str, now: datetime) -> None:
        """Ask for the hub to be told that `topic` changed (one pending ping per topic)."""
        with self._write() as conn:
            key = hub_pings.c.topic == topic
            done = conn.execute(
                hub_pings.update()
                .where(key)
                .values(
                    hub=hub,
                    attempts=0,
                    next_attempt=now,
                    last_error=None,
                    delivered=False,
                    generation=hub_pings.c.generation + 1,
                )
            )
            if done.rowcount == 0:
                conn.execute(
                    hub_pings.insert().values(
                        topic=topic, hub=hub, attempts=0, next_attempt=now, generation=0
                    )
                )

    def due_hub_pings(self, now: datetime) -> list[HubPing]:
        """Every ping due now."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(hub_pings)
                .where(hub_pings.c.next_attempt <= now, hub_pings.c.delivered.is_(False))
                .order_by(hub_pings.c.next_attempt, hub_pings.c.topic)
            )
            return [HubPing(r.hub, r.topic, r.attempts, r.generation) for r in rows]

    def hub_ping_done(self, ping: HubPing) -> None:
        """Clear a delivered ping, unless a newer change asked for another one meanwhile."""
        with self._write() as conn:
            conn.execute(
                hub_pings.update()
                .where(hub_pings.c.topic == ping.topic, hub_pings.c.generation == ping.generation)
                .values(delivered=True, last_error=None)
            )

    def hub_ping_failed(self, ping: HubPing, error: str, next_attempt: datetime | None) -> None:
        """Record a failed delivery; with no next attempt the ping is given up. A ping
        re-queued meanwhile (newer generation) is left as it is."""
        with self._write() as conn:
            key = (hub_pings.c.topic == ping.topic) & (hub_pings.c.generation == ping.generation)
            if next_attempt is None:  # given up: kept as delivered so generations never repeat
                conn.execute(hub_pings.update().where(key).values(delivered=True, last_error=error))
            else:
                conn.execute(
                    hub_pings.update()
                    .where(key)
                    .values(
                        attempts=hub_pings.c.attempts + 1,
                        next_attempt=next_attempt,
                        last_error=error,
                    )
                )

    def pending_hub_pings(self) -> list[PendingPing]:
        """(topic, attempts, last error) of every ping not delivered yet."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(hub_pings)
                .where(hub_pings.c.delivered.is_(False))
                .order_by(hub_pings.c.topic)
            )
            return [PendingPing(r.topic, r.attempts, r.last_error) for r in rows]

    # ------------------------------------------------------------------ housekeeping

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
            old_tombstones = conn.execute(
                tombstones.delete().where(tombstones.c.last_seen < now - tombstones_unseen)
            )
            return int(old_fetches.rowcount or 0), int(old_tombstones.rowcount or 0)


def _outdated(w: RefreshWrite, row: Any) -> bool:
    """Whether a refresh no longer applies: an editor changed the source while it was
    fetched (its config hash moved), or another process stored a newer refresh of it."""
    if row is None:
        return False
    if row.config_hash != w.status.config_hash:
        log.info("source %s changed while it was fetched: result dropped", w.status.id)
        return True
    if w.check_previous and row.last_fetch != w.previous_fetch:
        log.info("source %s was refreshed elsewhere meanwhile: result dropped", w.status.id)
        return True
    return False


# Executemany statements (parameters named so that they do not clash with column names).
_UPDATED_COLUMNS = ("title", "link", "published", "updated", "content_hash", "data", "last_seen")
_UPDATE_ENTRY = (
    entries.update()
    .where(entries.c.source_id == sa.bindparam("_sid"), entries.c.id == sa.bindparam("_eid"))
    .values({name: sa.bindparam(f"_v_{name}") for name in _UPDATED_COLUMNS})
)
_INCREMENT_COUNTER = (
    counters.update()
    .where(counters.c.source_id == sa.bindparam("_sid"), counters.c.name == sa.bindparam("_name"))
    .values(value=counters.c.value + sa.bindparam("_delta"))
)


def _status_values(status: SourceStatus) -> dict[str, Any]:
    """The sources-table columns a refresh writes."""
    return {
        "url": status.url,
        "state": status.state.value,
        "etag": status.etag,
        "last_modified": status.last_modified,
        "body_hash": status.body_hash,
        "last_fetch": status.last_fetch,
        "last_success": status.last_success,
        "last_http_status": status.last_http_status,
        "last_error": status.last_error,
        "failures": status.failures,
        "next_fetch": status.next_fetch,
        "moved_to": status.moved_to,
        "suspect_since": status.suspect_since,
        "feed_ttl": int(status.feed_ttl.total_seconds()) if status.feed_ttl else None,
    }


_STATUS_COLUMNS = tuple(_status_values(SourceStatus(id="", url="")))
_UPDATE_SOURCE = (
    sources.update()
    .where(sources.c.id == sa.bindparam("_sid"))
    .values({name: sa.bindparam(f"_v_{name}") for name in _STATUS_COLUMNS})
)


def _fetch_values(
    source_id: str, result: FetchResult, now: datetime, new: int, updated: int
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "at": now,
        "status": result.status.value,
        "http_status": result.http_status,
        "duration": round(result.duration * 1000),
        "size": result.size,
        "new": new,
        "updated": updated,
        "error": result.error,
    }


@functools.lru_cache(maxsize=2)
def _newest_time_scanned(with_since: bool) -> sa.TextualSelect:
    """The `:skip`-th (from 0) newest publication time of the sources `:ids` among the newest
    `:scan` entries of all sources; no row when they have fewer there."""
    since = "WHERE published >= :since " if with_since else ""
    query = (
        "SELECT published FROM (SELECT published, source_id FROM entries "
        f"{since}ORDER BY published DESC LIMIT :scan) AS newest "
        "WHERE source_id IN :ids ORDER BY published DESC LIMIT 1 OFFSET :skip"
    )
    binds: list[sa.BindParameter[Any]] = [sa.bindparam("ids", expanding=True)]
    if with_since:
        binds.append(sa.bindparam("since", type_=UTCDateTime()))
    return sa.text(query).bindparams(*binds).columns(sa.column("published", UTCDateTime()))


@functools.lru_cache(maxsize=64)
def _newest_times(count: int, with_since: bool) -> sa.TextualSelect:
    """The newest `:per` publication times of each of `count` sources (`:s0`, `:s1`, ...),
    one index range each. Written as text: building hundreds of expression objects per
    publish cost more than the query."""
    since = " AND published >= :since" if with_since else ""
    parts = [
        f"SELECT published FROM (SELECT published FROM entries WHERE source_id = :s{n}{since}"
        f" ORDER BY published DESC LIMIT :per) AS t{n}"
        for n in range(count)
    ]
    binds = [sa.bindparam("since", type_=UTCDateTime())] if with_since else []
    return (
        sa.text(" UNION ALL ".join(parts))
        .bindparams(*binds)
        .columns(sa.column("published", UTCDateTime()))
    )


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


_compressors: ThreadPoolExecutor | None = None
_compressors_lock = threading.Lock()


def _gzip_all(bodies: Sequence[bytes]) -> list[bytes]:
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


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _entry_values(entry: Entry) -> dict[str, Any]:
    return {
        "source_id": entry.source_id,
        "id": entry.id,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published,
        "updated": entry.updated,
        "content_hash": entry.content_hash,
        "data": codec.dumps(
            {
                "authors": list(entry.authors),
                "tags": list(entry.tags),
                "summary": entry.summary,
                "content": entry.content,
                "image": codec.image_to_json(entry.image),
                "enclosures": codec.enclosures_to_json(entry.enclosures),
            }
        ),
    }


def _entry_from_row(r: Any) -> Entry:
    data = codec.loads(r.data)
    return Entry(
        source_id=r.source_id,
        id=r.id,
        title=r.title,
        link=r.link,
        published=r.published,
        updated=r.updated,
        authors=tuple(data.get("authors", ())),
        tags=tuple(data.get("tags", ())),
        summary=data.get("summary", ""),
        content=data.get("content", ""),
        image=codec.image_from_json(data.get("image")),
        enclosures=codec.enclosures_from_json(data.get("enclosures")),
        content_hash=r.content_hash,
    )


def _article_values(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "path": article.path,
        "published": article.published,
        "updated": article.updated,
        "content_hash": article.content_hash,
        "data": codec.dumps(
            {
                "slug": article.slug,
                "title": article.title,
                "link": article.link,
                "published": article.published.isoformat(),
                "updated": article.updated.isoformat(),
                "authors": list(article.authors),
                "summary": article.summary,
                "content": article.content,
                "tags": list(article.tags),
                "image": codec.image_to_json(article.image),
                "path": article.path,
                "content_hash": article.content_hash,
                "language": article.language,
            }
        ),
    }


def _article_from_json(data: dict[str, Any]) -> Article:
    return Article(
        slug=data["slug"],
        title=data["title"],
        link=data["link"],
        published=datetime.fromisoformat(data["published"]),
        updated=datetime.fromisoformat(data["updated"]),
        authors=tuple(data.get("authors", ())),
        summary=data.get("summary", ""),
        content=data.get("content", ""),
        tags=tuple(data.get("tags", ())),
        image=codec.image_from_json(data.get("image")),
        path=data.get("path", ""),
        content_hash=data.get("content_hash", ""),
        language=data.get("language", ""),
    )
