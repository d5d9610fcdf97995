"""Readership: what the web process counts of the feeds it serves, and what the store reports.

Written by the web process (``RequestTally``, ``SubscriberReport``, ``ClientSighting``, handed
over together as a ``ReadershipBatch``) and read back as one ``Readership`` report: per feed
and variant (``FeedReads``), per partner (``PartnerReads``), the subscribers aggregators report
(``SubscriberReport``) and distinct other clients per day (``DailyClients``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

# ------------------------------------------------------------------ written by the web process


@dataclass(frozen=True)
class RequestTally:
    """Requests of one feed variant in one hour, by one reader (``partner`` "" for the
    public), answered with one status: how many, the body bytes sent, and the last one."""

    hour: datetime
    feed: str
    variant: str
    partner: str
    status: int
    requests: int
    bytes: int
    last_seen: datetime


@dataclass(frozen=True)
class SubscriberReport:
    """The latest figure an aggregator's fetcher reported, in its User-Agent, for one of its
    subscriptions to one format of a public feed (``feed_id``: the aggregator's own id of
    that subscription when it gives one, else "")."""

    feed: str
    format: str
    aggregator: str
    feed_id: str
    subscribers: int
    reported: datetime


@dataclass(frozen=True)
class ClientSighting:
    """A client (any reader but an aggregator reporting subscribers, and partners) that read
    a public feed on a UTC day, known only by a keyed hash that cannot be reversed."""

    day: date
    feed: str
    client: str


@dataclass(frozen=True)
class ReadershipBatch:
    """Everything one web process counted since its last flush."""

    requests: tuple[RequestTally, ...] = ()
    subscribers: tuple[SubscriberReport, ...] = ()
    clients: tuple[ClientSighting, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.requests or self.subscribers or self.clients)


# ------------------------------------------------------------------ read back


@dataclass(frozen=True)
class FeedReads:
    """Requests of one variant of a feed ("" is the feed's own document; "full" or
    "summary" a partners' variant), by status, and the body bytes sent."""

    feed: str
    variant: str
    statuses: tuple[tuple[int, int], ...]  # (HTTP status, requests), by status
    bytes: int

    @property
    def requests(self) -> int:
        return sum(count for _, count in self.statuses)

    def status(self, code: int) -> int:
        """Requests answered with ``code``."""
        return sum(count for status, count in self.statuses if status == code)

    @property
    def ok(self) -> int:
        return self.status(200)

    @property
    def not_modified(self) -> int:
        return self.status(304)


@dataclass(frozen=True)
class PartnerReads:
    """A partner's use: requests, when last seen, and the feeds it read."""

    partner: str
    requests: int
    last_seen: datetime
    feeds: tuple[str, ...]


@dataclass(frozen=True)
class DailyClients:
    """Distinct other clients of a public feed on one UTC day."""

    day: date
    feed: str
    clients: int


@dataclass(frozen=True)
class Readership:
    """Readership over a window: requests since ``since`` (None: ever; counted by the
    hour), subscribers reported and clients per day since ``window_start``."""

    since: datetime | None
    window_start: datetime
    now: datetime
    feeds: tuple[FeedReads, ...] = ()
    partners: tuple[PartnerReads, ...] = ()
    subscribers: tuple[SubscriberReport, ...] = ()
    clients: tuple[DailyClients, ...] = field(default=())

    def feed_names(self) -> list[str]:
        """Every feed any figure is about, sorted."""
        names: Iterable[str] = (
            *(r.feed for r in self.feeds),
            *(s.feed for s in self.subscribers),
            *(c.feed for c in self.clients),
        )
        return sorted(set(names))

    def subscribers_of(self, feed: str) -> int:
        """The latest figure of each aggregator subscription to ``feed``, summed."""
        return sum(s.subscribers for s in self.subscribers if s.feed == feed)

    def clients_on(self, feed: str, day: date) -> int:
        return sum(c.clients for c in self.clients if c.feed == feed and c.day == day)
