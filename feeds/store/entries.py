"""Upstream entries: upserts, retention with tombstones, and the newest entries of a feed.

Writes happen inside a refresh's write transaction (see sources.SourcesMixin.save_refreshes),
so they are functions of the open connection: `upsert_entries`, `apply_retention`. An entry
removed by retention leaves a tombstone, so that it never comes back as new while an upstream
still lists it.

Reading a feed's newest entries among millions is two steps (`recent_entries`): the time of
the limit-th newest entry, read from indexes alone (`cutoff`), then only the rows from that
time on.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.policy import retention_victims
from feeds.store import codec
from feeds.store.engine import Database, chunks
from feeds.store.schema import UTCDateTime, entries, tombstones
from feeds.times import utc
from feeds.types import Entry

# A feed's newest entries are first looked for among this many times as many of the newest
# entries of all sources (see cutoff): enough for a feed over a tenth of the sources.
SCAN_FACTOR = 10


class EntriesMixin(Database):
    """Read entries and tombstones."""

    def recent_entries(
        self, source_ids: Iterable[str], limit: int, since: datetime | None = None
    ) -> list[Entry]:
        """The newest entries of these sources, newest first (ties broken by source and id).

        Two steps in one read transaction, so that a feed over a few sources among millions of
        entries stays cheap: publication times read from indexes alone give the time of the
        limit-th newest entry (see cutoff); then only rows from that time on are read whole.
        """
        ids = list(dict.fromkeys(source_ids))
        if not ids or limit <= 0:
            return []
        with self._read() as conn:
            found = cutoff(conn, ids, limit, since).time
            query = sa.select(entries).where(_among(conn, ids))
            if found is not None:
                query = query.where(entries.c.published >= found)
            query = query.order_by(
                entries.c.published.desc(), entries.c.source_id, entries.c.id
            ).limit(limit)
            return [codec.entry_from_row(r) for r in conn.execute(query)]

    def count_entries(self) -> int:
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(entries)).scalar_one())

    def tombstone_count(self, source_id: str) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(tombstones)
                    .where(tombstones.c.source_id == source_id)
                ).scalar_one()
            )


# --------------------------------------------------------------------------- the cutoff


class Cutoff(NamedTuple):
    """A time at or before the publication of the limit-th newest entry of some sources,
    and how it was found: "scan" (among the newest entries of all sources: exact) or
    "per_source" (among each source's newest: possibly earlier)."""

    time: datetime | None
    method: Literal["scan", "per_source"]


def cutoff(conn: Connection, ids: list[str], limit: int, since: datetime | None) -> Cutoff:
    """The time from which the `limit` newest entries of the sources `ids` are read
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
    array = _arrays(conn)
    found = conn.execute(newest_time_scanned(since is not None, array), scan).scalar()
    if found is not None:
        return Cutoff(found, "scan")
    per = max(8, -(-2 * limit // len(ids)))  # enough that only real scarcity falls short
    times: list[datetime] = []
    for chunk in chunks(ids, 400):  # SQLite allows 500 terms in one compound select
        params: dict[str, Any] = {f"s{n}": sid for n, sid in enumerate(chunk)}
        params["per"] = per
        if since is not None:
            params["since"] = since
        rows = conn.execute(newest_times(len(chunk), since is not None), params)
        times.extend(rows.scalars())
    if len(times) < limit:
        return Cutoff(since, "per_source")
    times.sort(reverse=True)
    return Cutoff(times[limit - 1], "per_source")


@functools.lru_cache(maxsize=4)
def newest_time_scanned(with_since: bool, array: bool = False) -> sa.TextualSelect:
    """The `:skip`-th (from 0) newest publication time of the sources `:ids` among the newest
    `:scan` entries of all sources; no row when they have fewer there. ``array``: `:ids` is
    one array parameter (PostgreSQL, see ``_among``), else an IN list."""
    since = "WHERE published >= :since " if with_since else ""
    among = "= ANY(:ids)" if array else "IN :ids"
    query = (
        "SELECT published FROM (SELECT published, source_id FROM entries "
        f"{since}ORDER BY published DESC LIMIT :scan) AS newest "
        f"WHERE source_id {among} ORDER BY published DESC LIMIT 1 OFFSET :skip"
    )
    ids = (
        sa.bindparam("ids", type_=sa.ARRAY(sa.String()))
        if array
        else sa.bindparam("ids", expanding=True)
    )
    binds: list[sa.BindParameter[Any]] = [ids]
    if with_since:
        binds.append(sa.bindparam("since", type_=UTCDateTime()))
    return sa.text(query).bindparams(*binds).columns(sa.column("published", UTCDateTime()))


def _arrays(conn: Connection) -> bool:
    """Whether a list of sources is passed as one array parameter (PostgreSQL): the
    statement's text is then the same for any number of sources, so that the driver and the
    server reuse its parsing, instead of an IN list of hundreds of parameters."""
    return conn.dialect.name == "postgresql"


def _among(conn: Connection, ids: list[str]) -> sa.ColumnElement[bool]:
    """The entries of the sources ``ids`` (see ``_arrays``)."""
    if _arrays(conn):
        return entries.c.source_id == sa.any_(sa.literal(ids, sa.ARRAY(sa.String())))
    return entries.c.source_id.in_(ids)


@functools.lru_cache(maxsize=64)
def newest_times(count: int, with_since: bool) -> sa.TextualSelect:
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


# --------------------------------------------------------------------------- writes

# An executemany statement (parameters named so that they do not clash with column names).
_UPDATED_COLUMNS = (
    "title",
    "link",
    "published",
    "updated",
    "content_hash",
    "data",
    "link_shared",
    "last_seen",
)
_UPDATE_ENTRY = (
    entries.update()
    .where(entries.c.source_id == sa.bindparam("_sid"), entries.c.id == sa.bindparam("_eid"))
    .values({name: sa.bindparam(f"_v_{name}") for name in _UPDATED_COLUMNS})
)


def upsert_entries(
    conn: Connection,
    source_id: str,
    batch: Sequence[Entry],
    values: Sequence[dict[str, Any]],
    now: datetime,
) -> tuple[int, int]:
    """Insert new entries and update changed ones; `values[i]` is
    `codec.entry_values(batch[i])`. Returns (new, updated).

    An entry counts as updated only when its content hash changed; its `updated` time then
    moves forward. An entry with a tombstone is not inserted again. Inserts and updates
    each go to the database as one executemany; an unchanged entry whose link became shared
    (or stopped being) has just that remembered."""
    existing: dict[str, Any] = {}
    unchanged: list[str] = []
    sharing: dict[bool, list[str]] = {True: [], False: []}
    ids = [e.id for e in batch]
    for chunk in chunks(ids, 500):
        for row in conn.execute(
            sa.select(
                entries.c.id, entries.c.content_hash, entries.c.updated, entries.c.link_shared
            ).where(entries.c.source_id == source_id, entries.c.id.in_(chunk))
        ):
            existing[row.id] = row
    missing = [i for i in ids if i not in existing]
    removed: set[str] = set()
    for chunk in chunks(missing, 500):
        removed.update(
            conn.execute(
                sa.select(tombstones.c.id).where(
                    tombstones.c.source_id == source_id, tombstones.c.id.in_(chunk)
                )
            ).scalars()
        )
    for chunk in chunks(sorted(removed), 500):
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
            if bool(old.link_shared) != entry.link_shared:
                sharing[entry.link_shared].append(entry.id)
    if inserts:
        conn.execute(entries.insert(), inserts)
    if updates:
        conn.execute(_UPDATE_ENTRY, updates)
    for chunk in chunks(unchanged, 500):
        conn.execute(
            entries.update()
            .where(entries.c.source_id == source_id, entries.c.id.in_(chunk))
            .values(last_seen=now)
        )
    for shared, changed in sharing.items():
        for chunk in chunks(changed, 500):
            conn.execute(
                entries.update()
                .where(entries.c.source_id == source_id, entries.c.id.in_(chunk))
                .values(link_shared=shared)
            )
    return len(inserts), len(updates)


def apply_retention(
    conn: Connection,
    source_id: str,
    latest: set[str],
    now: datetime,
    max_items: int | None,
    max_age: timedelta | None,
) -> None:
    """Remove a source's entries beyond `max_items` or older than `max_age`, except those
    in `latest` (the fetch being stored), and leave a tombstone for each."""
    # Counted first (from the index alone): usually nothing is over a limit, and then the
    # source's rows need not be read.
    count = sa.select(sa.func.count()).select_from(entries).where(entries.c.source_id == source_id)
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
    listed = [(r.id, r.published) for r in rows]
    victims = retention_victims(listed, latest, now, max_items, max_age)
    for chunk in chunks(victims, 500):
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
            [{"source_id": source_id, "id": i, "removed": now, "last_seen": now} for i in chunk],
        )


def drop_tombstones(conn: Connection, unseen_since: datetime) -> int:
    """Remove the tombstones of entries no upstream has listed since then; how many."""
    result = conn.execute(tombstones.delete().where(tombstones.c.last_seen < unseen_since))
    return int(result.rowcount or 0)
