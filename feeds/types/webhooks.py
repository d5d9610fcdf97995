"""Webhooks: what ``[[webhook]]`` in site.toml asks for, the events the clock queues in the
database's outbox, and each webhook's delivery state as editors see it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from feeds.types.content import Item


class EventType(enum.StrEnum):
    ITEM_NEW = "item.new"  # an item entered a feed's current items for the first time
    ITEM_UPDATED = "item.updated"  # an item of a feed came back with its modified date moved
    ITEM_HIDDEN = "item.hidden"  # an editor's hide took an item out of a feed
    SOURCE_FAILING = "source.failing"  # a source went from healthy to failing
    SOURCE_RECOVERED = "source.recovered"  # a failing source answered with a feed again

    @property
    def about_items(self) -> bool:
        return self.value.startswith("item.")


@dataclass(frozen=True)
class Webhook:
    """One ``[[webhook]]`` of site.toml. ``secret`` is the value of ``secret_env`` read from
    the environment at load time (never shown: not in repr, logs or pages)."""

    url: str
    events: frozenset[EventType]
    feeds: tuple[str, ...] = ()  # () = items of every feed
    secret_env: str = ""
    secret: str = field(default="", repr=False, compare=False)


@dataclass(frozen=True)
class ItemEvents:
    """What a publish needs to queue item events while recording a feed's items: the time,
    the published id of an item id, and whether an editor hides an item now."""

    now: datetime
    published_id: Callable[[str], str]
    hidden: Callable[[Item], bool]


@dataclass(frozen=True)
class OutboxEvent:
    """An event in the outbox: ``seq`` orders them; ``body`` is the exact JSON POSTed
    (every attempt sends the same bytes, so the same signature)."""

    seq: int
    id: str
    type: EventType
    feed: str  # "" for source events
    body: bytes


@dataclass(frozen=True)
class WebhookState:
    """A webhook's delivery state: events up to ``cursor`` are delivered (or given up);
    while the event after it fails, ``attempts`` counts the tries since ``failing_since``."""

    url: str
    cursor: int = 0
    attempts: int = 0
    next_attempt: datetime | None = None
    failing_since: datetime | None = None
    last_delivery: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    delivered: int = 0
    given_up: int = 0
    backlog: int = 0  # events waiting for it (set by webhook_states)
