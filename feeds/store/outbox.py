"""The outbox of WebSub pings: which hubs must still be told that a topic changed.

One row per topic. Each request to ping bumps the topic's generation, so a delivery only
clears the request it delivered; rows are kept once delivered (or given up), so that a
topic's generation only ever grows.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from feeds.store.engine import Database
from feeds.store.schema import hub_pings
from feeds.types import HubPing, PendingPing


class OutboxMixin(Database):
    """Queue, hand out and settle WebSub pings."""

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
