"""Readership: what the web processes counted, added up, and read back as one report.

Every web process flushes its own counts every few seconds (``record_readership``); every
write adds to what is stored (``INSERT … ON CONFLICT DO UPDATE`` on SQLite and PostgreSQL),
so several processes and machines add up. Subscriber figures keep the latest report of each
aggregator subscription. Clients are keyed hashes under the day's salt
(``readership_salt``, created by whichever process asks first); ``readership_housekeeping``
drops past salts, counts the hashes of days before yesterday into one row per feed and day
(deleting the hashes), and prunes the hourly counts and silent subscriptions after
``KEPT``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from feeds.store import codec
from feeds.store.engine import Database
from feeds.store.schema import (
    readership_clients,
    readership_daily_clients,
    readership_hours,
    readership_salts,
    readership_subscribers,
    readership_totals,
)
from feeds.types import DailyClients, Readership, ReadershipBatch

KEPT = timedelta(days=92)  # hourly counts, and subscriptions no longer reported
SUBSCRIBER_WINDOW = timedelta(days=7)  # without `since`: figures reported this recently
_REQUEST_KEY = ("feed", "variant", "partner", "status")


def _upsert(conn: Connection, table: sa.Table) -> Any:
    """An INSERT that can say what to do ON CONFLICT, in this connection's dialect."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table)


def _later(new: Any, old: Any) -> Any:
    return sa.case((new > old, new), else_=old)


def _add_requests(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    statement = _upsert(conn, table)
    statement = statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key.columns],
        set_={
            "requests": table.c.requests + statement.excluded.requests,
            "bytes": table.c.bytes + statement.excluded.bytes,
            "last_seen": _later(statement.excluded.last_seen, table.c.last_seen),
        },
    )
    conn.execute(statement, list(rows))


def _sum_totals(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hourly rows summed over their hours, for the totals table."""
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in _REQUEST_KEY)
        total = totals.get(key)
        if total is None:
            totals[key] = {k: v for k, v in row.items() if k != "hour"}
        else:
            total["requests"] += row["requests"]
            total["bytes"] += row["bytes"]
            total["last_seen"] = max(total["last_seen"], row["last_seen"])
    return list(totals.values())


class ReadershipMixin(Database):
    """Add up the web processes' counts; report them."""

    def record_readership(self, batch: ReadershipBatch, today: date) -> None:
        """Add one process's counts, in one transaction. Client hashes of days before
        yesterday (``today`` - 1) are dropped: their day has been counted already."""
        hours = [codec.tally_values(t) for t in batch.requests]
        subscribers = [
            {
                "feed": s.feed,
                "format": s.format,
                "aggregator": s.aggregator,
                "feed_id": s.feed_id,
                "subscribers": s.subscribers,
                "reported": s.reported,
            }
            for s in batch.subscribers
        ]
        clients = [
            {"day": c.day, "feed": c.feed, "client": c.client}
            for c in batch.clients
            if c.day >= today - timedelta(days=1)
        ]
        with self._write() as conn:
            if hours:
                _add_requests(conn, readership_hours, hours)
                _add_requests(conn, readership_totals, _sum_totals(hours))
            if subscribers:
                table = readership_subscribers
                statement = _upsert(conn, table)
                statement = statement.on_conflict_do_update(
                    index_elements=[c.name for c in table.primary_key.columns],
                    set_={
                        "subscribers": statement.excluded.subscribers,
                        "reported": statement.excluded.reported,
                    },
                    where=statement.excluded.reported >= table.c.reported,
                )
                conn.execute(statement, subscribers)
            if clients:
                conn.execute(_upsert(conn, readership_clients).on_conflict_do_nothing(), clients)

    def readership_salt(self, day: date) -> bytes:
        """The salt of ``day``'s client hashes: the one every process uses, created at
        random by the first to ask."""
        key = readership_salts.c.day == day
        with self._read() as conn:
            found = conn.execute(sa.select(readership_salts.c.salt).where(key)).scalar()
        if found is None:
            with self._write() as conn:
                found = conn.execute(sa.select(readership_salts.c.salt).where(key)).scalar()
                if found is None:
                    found = secrets.token_hex(32)
                    conn.execute(readership_salts.insert().values(day=day, salt=found))
        return bytes.fromhex(str(found))

    def readership_housekeeping(self, now: datetime) -> None:
        """Drop the salts of past days; count the client hashes of days before yesterday into
        one row per feed and day and delete them; prune what is older than KEPT."""
        today = now.astimezone(UTC).date()
        counted_before = today - timedelta(days=1)
        with self._write() as conn:
            conn.execute(readership_salts.delete().where(readership_salts.c.day < today))
            clients = readership_clients
            old = clients.c.day < counted_before
            counts = conn.execute(
                sa.select(clients.c.day, clients.c.feed, sa.func.count().label("n"))
                .where(old)
                .group_by(clients.c.day, clients.c.feed)
            ).all()
            if counts:
                daily = readership_daily_clients
                statement = _upsert(conn, daily)
                statement = statement.on_conflict_do_update(
                    index_elements=["day", "feed"],
                    set_={"clients": daily.c.clients + statement.excluded.clients},
                )
                conn.execute(
                    statement, [{"day": r.day, "feed": r.feed, "clients": r.n} for r in counts]
                )
                conn.execute(clients.delete().where(old))
            conn.execute(readership_hours.delete().where(readership_hours.c.hour < now - KEPT))
            conn.execute(
                readership_subscribers.delete().where(
                    readership_subscribers.c.reported < now - KEPT
                )
            )

    def readership(self, since: datetime | None = None, now: datetime | None = None) -> Readership:
        """Requests since ``since`` (None: ever), counted by the hour (the hour ``since``
        falls in counts whole); the latest subscriber figures reported since then, and other
        clients per UTC day since then (without ``since``: over the last SUBSCRIBER_WINDOW)."""
        now = now or datetime.now(UTC)
        window = since or now - SUBSCRIBER_WINDOW
        where: sa.ColumnElement[bool]
        if since is None:
            table, where = readership_totals, sa.true()
        else:
            hour = since.replace(minute=0, second=0, microsecond=0)
            table, where = readership_hours, readership_hours.c.hour >= hour
        columns = [table.c[name] for name in _REQUEST_KEY]
        subscribers = readership_subscribers
        with self._read() as conn:
            rows = conn.execute(
                sa.select(
                    *columns,
                    sa.func.sum(table.c.requests).label("requests"),
                    sa.func.sum(table.c.bytes).label("bytes"),
                    sa.func.max(table.c.last_seen).label("last_seen"),
                )
                .where(where)
                .group_by(*columns)
            ).all()
            reports = conn.execute(
                sa.select(subscribers)
                .where(subscribers.c.reported >= window)
                .order_by(
                    subscribers.c.feed,
                    subscribers.c.aggregator,
                    subscribers.c.feed_id,
                    subscribers.c.format,
                )
            ).all()
            clients = self._daily_clients(conn, window.astimezone(UTC).date())
        feeds, partners = codec.reads_from_rows(rows)
        return Readership(
            since=since,
            window_start=window,
            now=now,
            feeds=feeds,
            partners=partners,
            subscribers=tuple(codec.subscribers_from_row(r) for r in reports),
            clients=clients,
        )

    def _daily_clients(self, conn: Connection, first: date) -> tuple[DailyClients, ...]:
        counted: dict[tuple[date, str], int] = {}
        daily, hashes = readership_daily_clients, readership_clients
        for day, feed, n in conn.execute(
            sa.select(daily.c.day, daily.c.feed, daily.c.clients).where(daily.c.day >= first)
        ):
            counted[(day, feed)] = counted.get((day, feed), 0) + int(n)
        for day, feed, n in conn.execute(
            sa.select(hashes.c.day, hashes.c.feed, sa.func.count())
            .where(hashes.c.day >= first)
            .group_by(hashes.c.day, hashes.c.feed)
        ):
            counted[(day, feed)] = counted.get((day, feed), 0) + int(n)
        return tuple(DailyClients(day, feed, n) for (day, feed), n in sorted(counted.items()))
