"""What /status, /status.json and /metrics show of each webhook: its backlog (events waiting
for it), its last delivery, its last error and the events it gave up on. URLs are shown
without credentials or secret-looking query parameters; secrets never."""

from __future__ import annotations

from typing import Any

from feeds.store import Store
from feeds.times import rfc3339
from feeds.types import Config, WebhookState
from feeds.urls import public_url


def webhooks_data(store: Store, config: Config) -> list[dict[str, Any]]:
    """One entry per configured webhook (the keys of /status.json's ``webhooks``)."""
    hooks = config.site.webhooks
    if not hooks:
        return []
    return [
        _shown(state, hook.events, hook.feeds)
        for state, hook in zip(store.webhook_states(hooks), hooks, strict=True)
    ]


def _shown(state: WebhookState, events: Any, feeds: tuple[str, ...]) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return rfc3339(value) if value is not None else None

    return {
        "url": public_url(state.url),
        "events": sorted(e.value for e in events),
        "feeds": list(feeds),
        "backlog": state.backlog,
        "delivered": state.delivered,
        "given_up": state.given_up,
        "last_delivery": iso(state.last_delivery),
        "attempts": state.attempts,
        "failing_since": iso(state.failing_since),
        "next_attempt": iso(state.next_attempt),
        "last_error": state.last_error,
        "last_error_at": iso(state.last_error_at),
    }
