"""Monotonic per-source fetch counters, for /metrics.

One row per (source, counter name); the names and what a fetch adds to them are the codec's
business (codec.counter_deltas), readers get SourceCounters. Counting is part of storing a
refresh, so `count_fetches` runs inside the refresh's write transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.store import codec
from feeds.store.engine import Database, chunks
from feeds.store.schema import counters
from feeds.types import FetchResult, SourceCounters

# An executemany statement (parameters named so that they do not clash with column names).
_INCREMENT = (
    counters.update()
    .where(counters.c.source_id == sa.bindparam("_sid"), counters.c.name == sa.bindparam("_name"))
    .values(value=counters.c.value + sa.bindparam("_delta"))
)


class CountersMixin(Database):
    """Read the counters."""

    def counters(self) -> dict[str, SourceCounters]:
        """Every source's monotonic counters."""
        rows: dict[str, dict[str, float]] = {}
        with self._read() as conn:
            for r in conn.execute(sa.select(counters).order_by(counters.c.source_id)):
                rows.setdefault(r.source_id, {})[r.name] = float(r.value)
        return {sid: codec.counters_from_rows(values) for sid, values in rows.items()}


def count_fetches(conn: Connection, done: Sequence[tuple[str, FetchResult, int, int]]) -> None:
    """Add fetches to the counters: (source id, result, new, updated) each, inside the
    caller's write transaction. Increments and new rows each go as one executemany."""
    deltas: dict[tuple[str, str], float] = {}
    for source_id, result, new, updated in done:
        for name, delta in codec.counter_deltas(result, new, updated):
            deltas[(source_id, name)] = deltas.get((source_id, name), 0.0) + delta
    known: set[tuple[str, str]] = set()
    ids = sorted({source_id for source_id, _ in deltas})
    for chunk in chunks(ids, 500):
        for row in conn.execute(
            sa.select(counters.c.source_id, counters.c.name).where(counters.c.source_id.in_(chunk))
        ):
            known.add((row.source_id, row.name))
    increments: list[dict[str, Any]] = [
        {"_sid": sid, "_name": name, "_delta": delta}
        for (sid, name), delta in deltas.items()
        if (sid, name) in known
    ]
    if increments:
        conn.execute(_INCREMENT, increments)
    missing = [
        {"source_id": sid, "name": name, "value": delta}
        for (sid, name), delta in deltas.items()
        if (sid, name) not in known
    ]
    if missing:
        conn.execute(counters.insert(), missing)
