"""Delivering what publishing queued: WebSub pings to the hub.

Publishing only queues a ping (in the database, one pending per topic); delivery happens
here, called by the scheduler every few seconds and at the end of ``feeds update``, so that
publishing never waits for a hub. Failures are retried with the backoff of
``policy.hub_retry_at``, then given up.
"""

from __future__ import annotations

import logging

from feeds import policy
from feeds.fetch import Fetcher
from feeds.store import Store
from feeds.times import Now

log = logging.getLogger(__name__)


def deliver_hub_pings(store: Store, fetcher: Fetcher, clock: Now) -> int:
    """Deliver the pings due now; returns how many were delivered."""
    delivered = 0
    for ping in store.due_hub_pings(clock()):
        answer = fetcher.notify_hub(ping.hub, ping.topic)
        if answer.ok:
            store.hub_ping_done(ping)
            delivered += 1
            continue
        error = answer.error or f"HTTP {answer.status}"
        retry = policy.hub_retry_at(ping.attempts + 1, clock())
        if retry is None:
            log.warning("hub %s: giving up on %s: %s", ping.hub, ping.topic, error)
        store.hub_ping_failed(ping, error, retry)
    return delivered
