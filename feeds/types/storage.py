"""Values passed between the pipeline and the store: refresh writes, the fetch log, counters,
WebSub pings, archive pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from feeds.types.content import Entry
from feeds.types.sources import FetchResult, FetchStatus, SourceStatus
from feeds.types.webhooks import EventType


@dataclass(frozen=True)
class RefreshWrite:
    """One refresh to store in one transaction: the source's new state, its entries (None
    when the body was not parsed), the fetch log and counters, and retention."""

    status: SourceStatus
    result: FetchResult
    entries: Sequence[Entry] | None
    now: datetime
    max_items: int | None = None
    max_age: timedelta | None = None
    # When set, the source's last fetch time as read before this fetch: if another writer
    # (a second process) stored a newer refresh meanwhile, this one is dropped.
    previous_fetch: datetime | None = None
    check_previous: bool = False
    # source.failing or source.recovered: queued for the webhooks in the same transaction.
    event: EventType | None = None


class EntryTimes(NamedTuple):
    """The times a source's stored entries are known by: when each was first seen, and the
    publication time it is stored with (by entry id)."""

    first_seen: dict[str, datetime]
    published: dict[str, datetime]


class StoredRefresh(NamedTuple):
    """What storing a refresh did: entries new and updated (both 0 when it was dropped)."""

    new: int = 0
    updated: int = 0


@dataclass(frozen=True)
class FetchRecord:
    """One row of the fetch log."""

    source_id: str
    at: datetime
    status: FetchStatus
    http_status: int | None
    duration_ms: int
    size: int
    new: int
    updated: int
    error: str | None


# Upper bounds (seconds) of the fetch-duration histogram; a last bucket holds the rest.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# The buckets' names: their bounds, then "+Inf" (Prometheus `le` labels).
DURATION_LABELS = (*(str(bound) for bound in DURATION_BUCKETS), "+Inf")


@dataclass(frozen=True)
class SourceCounters:
    """A source's monotonic fetch counters, kept for good (what /metrics reports)."""

    fetches_ok: float = 0.0
    fetches_not_modified: float = 0.0
    fetches_error: float = 0.0
    new_entries: float = 0.0
    updated_entries: float = 0.0
    bytes: float = 0.0
    duration_sum: float = 0.0
    duration_count: float = 0.0
    # Fetches per DURATION_BUCKETS bound, then beyond the last one (not cumulative).
    duration_buckets: tuple[float, ...] = (0.0,) * (len(DURATION_BUCKETS) + 1)

    def fetches(self, status: FetchStatus) -> float:
        return {
            FetchStatus.OK: self.fetches_ok,
            FetchStatus.NOT_MODIFIED: self.fetches_not_modified,
            FetchStatus.ERROR: self.fetches_error,
        }[status]


def duration_bucket(seconds: float) -> int:
    """The index in SourceCounters.duration_buckets of the bucket holding ``seconds``."""
    for index, bound in enumerate(DURATION_BUCKETS):
        if seconds <= bound:
            return index
    return len(DURATION_BUCKETS)


@dataclass(frozen=True)
class HubPing:
    """A WebSub notification to deliver; ``generation`` tells a re-queued one apart."""

    hub: str
    topic: str
    attempts: int
    generation: int


@dataclass(frozen=True)
class PendingPing:
    """A WebSub notification not delivered yet, as /metrics and editors see it."""

    topic: str
    attempts: int
    last_error: str | None


class ArchivePage(NamedTuple):
    """An RFC 5005 archive page of a feed: its number (1 = oldest) and the sequence numbers
    of its first and last items (items are numbered in the order they joined the feed)."""

    number: int
    first: int
    last: int
    stale: bool = False  # to be written again (an item on it was hidden, unhidden, deleted)
