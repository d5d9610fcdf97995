"""Delivering the webhooks' events from the outbox.

The clock queues events in the database where the facts change (store/webhooks.py); here a
separate job (the scheduler's, every few seconds, and the end of ``feeds update``) POSTs them:
each webhook in its own thread, its events in order, at least once. A failed delivery holds
back that webhook's later events only, and is retried with the backoff of
``policy.webhook_retry_at`` for a day, then given up (recorded, and the next event goes).
Every POST has a bounded deadline, and nothing here runs in a fetch or publish job.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from feeds import policy
from feeds.fetch import Fetcher
from feeds.store import Store
from feeds.times import Now
from feeds.types import OutboxEvent, Webhook
from feeds.urls import public_url, redact_urls

log = logging.getLogger(__name__)

DEADLINE = 10.0  # seconds for one delivery (connect, send, the receiver's answer)
BATCH = 50  # events one webhook delivers per run, at most
MAX_THREADS = 8
SIGNATURE_HEADER = "X-Feeds-Signature"
EVENT_ID_HEADER = "X-Feeds-Event-Id"
EVENT_TYPE_HEADER = "X-Feeds-Event"


def signature(secret: str, body: bytes) -> str:
    """The ``X-Feeds-Signature`` value of ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def headers(hook: Webhook, event: OutboxEvent) -> list[tuple[str, str]]:
    sent = [
        ("Content-Type", "application/json"),
        (EVENT_ID_HEADER, event.id),
        (EVENT_TYPE_HEADER, event.type.value),
    ]
    if hook.secret:
        sent.append((SIGNATURE_HEADER, signature(hook.secret, event.body)))
    return sent


def deliver_webhooks(store: Store, fetcher: Fetcher, hooks: Sequence[Webhook], clock: Now) -> int:
    """Deliver what is due to every webhook, each in its own thread; returns how many
    events were delivered. Never raises for a receiver's problem."""
    if not hooks:
        return 0
    workers = min(len(hooks), MAX_THREADS)
    with ThreadPoolExecutor(workers, thread_name_prefix="webhook") as pool:
        done = list(pool.map(lambda hook: _deliver_one(store, fetcher, hook, clock), hooks))
    if any(settled for _, settled in done):
        store.prune_webhook_events()
    return sum(delivered for delivered, _ in done)


def _deliver_one(store: Store, fetcher: Fetcher, hook: Webhook, clock: Now) -> tuple[int, int]:
    try:
        return deliver(store, fetcher, hook, clock)
    except Exception:  # a database error: the next run tries again
        log.exception("webhook %s: delivery failed", public_url(hook.url))
        return 0, 0


def deliver(store: Store, fetcher: Fetcher, hook: Webhook, clock: Now) -> tuple[int, int]:
    """One webhook's run: its due events in order, stopping at the first failure. Returns
    (events delivered, events settled: delivered or given up)."""
    state = store.webhook_state(hook)
    if state is None:
        return 0, 0
    now = clock()
    if state.next_attempt is not None and state.next_attempt > now:
        return 0, 0
    shown = public_url(hook.url)
    delivered = given_up = 0
    attempts, failing_since = state.attempts, state.failing_since
    for event in store.webhook_events(hook, state.cursor, BATCH):
        answer = fetcher.post(hook.url, event.body, headers(hook, event), deadline=DEADLINE)
        now = clock()
        if answer.ok:
            store.webhook_delivered(hook, event, now)
            delivered += 1
            attempts, failing_since = 0, None
            continue
        error = redact_urls(answer.error or f"HTTP {answer.status}")
        retry = policy.webhook_retry_at(attempts + 1, failing_since or now, now)
        if retry is None:
            log.warning("webhook %s: gave up on %s %s: %s", shown, event.type, event.id, error)
            given_up += 1
        else:
            log.info(
                "webhook %s: %s %s not delivered (%s); retry at %s",
                shown,
                event.type,
                event.id,
                error,
                retry.isoformat(),
            )
        store.webhook_failed(hook, event, error, now, retry)
        break
    return delivered, delivered + given_up
