"""Readership, counted in memory: who reads which feed, cheaply enough for every request.

Pure rules and one thread-safe tally (standard library only); the web process feeds it
(``feeds/web/usage.py``) and flushes it to the store in the background.

- ``aggregator(user_agent)``: the subscribers an aggregator's fetcher reports in its
  User-Agent. Hosted readers fetch a feed once for all their users and say how many they are:
  ``Feedly/1.0 (+http://www.feedly.com/fetcher.html; 16 subscribers; like FeedFetcher-Google)``,
  ``Inoreader/1.0 (+http://www.inoreader.com/feed-fetcher; 8 subscribers; )``,
  ``NewsBlur Feed Fetcher - 25 subscribers - https://www.newsblur.com/site/1234/name (…)``,
  ``Feedbin feed-id:1234 - 12 subscribers``,
  ``Mozilla/5.0 (compatible; theoldreader.com; 3 subscribers; feed-id=0719795c…)``,
  ``Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 5 subscribers)``, and
  the like ("N readers", "Subscriber Count: N", a feed id as ``feed-id=``, ``feed-id:``,
  ``feedID:`` or NewsBlur's ``/site/N/``). A figure is a claim, like the User-Agent it is in.
- ``client_hash(salt, feed, address, user_agent)``: any other reader of a public feed, as a
  keyed hash (BLAKE2b in its keyed mode, RFC 7693, a MAC like HMAC and a quarter of its cost;
  the key is the day's random 256-bit salt; 64 bits of output) that cannot be reversed once
  the salt is gone, and that differs from feed to feed.
- ``Tally``: per-process counts between two flushes, under one lock.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from feeds.types import ClientSighting, ReadershipBatch, RequestTally, SubscriberReport

CLIENT_HASH_HEX = 16  # 64 bits: collisions are negligible among a day's clients of a feed
MAX_SUBSCRIBERS = 10_000_000  # a larger figure is not believed
MAX_PENDING_CLIENTS = 100_000  # client hashes held between two flushes (beyond: dropped)
MAX_REMEMBERED_CLIENTS = 200_000  # hashes already flushed today, not sent again
MAX_PENDING_SUBSCRIPTIONS = 10_000  # aggregator subscriptions held between two flushes
EPOCH_DAY = date(1970, 1, 1)

# Aggregators by a token of their User-Agent (lower case), and the name they are shown by.
# The token found first in the User-Agent names the aggregator ("Feedly/1.0 (…; like
# FeedFetcher-Google)" is Feedly).
KNOWN_AGGREGATORS = (
    ("feedly", "Feedly"),
    ("inoreader", "Inoreader"),
    ("newsblur", "NewsBlur"),
    ("feedbin", "Feedbin"),
    ("theoldreader", "The Old Reader"),
    ("bazqux", "BazQux"),
    ("netvibes", "Netvibes"),
    ("bloglovin", "Bloglovin"),
    ("feed wrangler", "Feed Wrangler"),
    ("feedhq", "FeedHQ"),
    ("plainfeeder", "PlainFeeder"),
    ("overcast", "Overcast"),
    ("feedfetcher-google", "Google Feedfetcher"),
)
_COUNT = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+)\s*(?:subscribers?|readers?)\b", re.IGNORECASE
)
_LABELLED_COUNT = re.compile(r"\bsubscriber(?:s| count)\s*[:=]\s*(\d{1,3}(?:,\d{3})+|\d+)", re.I)
_FEED_ID = re.compile(r"\bfeed-?id\s*[:=]\s*([A-Za-z0-9_-]{1,64})", re.IGNORECASE)
_NEWSBLUR_SITE = re.compile(r"newsblur\.com/site/(\d{1,20})", re.IGNORECASE)
_COMPATIBLE = re.compile(r"\(compatible;\s*([^;/)+]+)", re.IGNORECASE)
_PRODUCT = re.compile(r"\s*([^/;()]+?)(?:/|\s+-\s+|\s*\(|;|\s+\d|$)")
_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9 ._-]+")


class AggregatorReport(NamedTuple):
    """What an aggregator's User-Agent says: its name, its own id of the subscription ("" when
    it gives none) and how many subscribe through it."""

    name: str
    feed_id: str
    subscribers: int


@functools.lru_cache(maxsize=4096)
def aggregator(user_agent: str) -> AggregatorReport | None:
    """The subscriber figure a User-Agent reports, or None when it reports none."""
    if not user_agent or not any(c.isdigit() for c in user_agent):
        return None
    found = _COUNT.search(user_agent) or _LABELLED_COUNT.search(user_agent)
    if found is None:
        return None
    subscribers = int(found.group(1).replace(",", ""))
    if subscribers > MAX_SUBSCRIBERS:
        return None
    feed_id = _FEED_ID.search(user_agent) or _NEWSBLUR_SITE.search(user_agent)
    return AggregatorReport(
        aggregator_name(user_agent), feed_id.group(1) if feed_id else "", subscribers
    )


def aggregator_name(user_agent: str) -> str:
    """The aggregator a User-Agent names: a known one, else its first product name (the one
    after "compatible;" in a Mozilla/5.0 string)."""
    lowered = user_agent.lower()
    known = [(lowered.find(token), name) for token, name in KNOWN_AGGREGATORS if token in lowered]
    if known:
        return min(known)[1]
    compatible = _COMPATIBLE.search(user_agent) if lowered.startswith("mozilla/") else None
    product = compatible or _PRODUCT.match(user_agent)
    name = _NAME_CHARACTERS.sub("", product.group(1) if product else "").strip()[:40]
    return name or "unknown"


def client_hash(salt: bytes, feed: str, address: str, user_agent: str) -> str:
    """A reader of ``feed`` (its address and User-Agent) as a keyed hash under ``salt`` (at
    most 64 bytes)."""
    message = f"{feed}\n{address}\n{user_agent}".encode("utf-8", "replace")
    digest = hashlib.blake2b(message, key=salt, digest_size=CLIENT_HASH_HEX // 2)
    return digest.hexdigest()


def utc_day(seconds: float) -> date:
    """The UTC day of a POSIX time."""
    return _day(int(seconds // 86400))


def _day(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def _hour(number: int) -> datetime:
    return datetime.fromtimestamp(number * 3600, UTC)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(round(seconds, 6), UTC)


# Hours and days are numbered from the POSIX epoch within the tally (cheaper than datetimes).
_RequestKey = tuple[int, str, str, str, int]  # hour number, feed, variant, partner, status
_SubscriptionKey = tuple[str, str, str, str]  # feed, format, aggregator, aggregator's feed id


class Tally:
    """Counts of one process since its last flush, safe to add to from many threads.

    ``salt_for(day)`` gives a UTC day's salt (bytes), or None when it cannot be had now (the
    client is then not counted); it is asked once a day, outside the lock. ``count`` is the
    per-request call; ``drain`` hands everything over as a batch and starts again;
    ``restore`` takes back a batch that could not be stored.
    """

    def __init__(self, salt_for: Callable[[date], bytes | None]) -> None:
        self.salt_for = salt_for
        self._lock = threading.Lock()
        self._requests: dict[_RequestKey, list[int]] = {}  # [requests, bytes, last second]
        self._subscribers: dict[_SubscriptionKey, tuple[int, float]] = {}
        self._clients: dict[tuple[int, str], set[str]] = {}  # (day number, feed): hashes
        self._pending_clients = 0
        self._salts: dict[int, bytes] = {}  # by day number
        self._remembered: tuple[int, set[str]] = (0, set())

    def count(
        self,
        now: float,
        feed: str,
        fmt: str,
        variant: str,
        partner: str,
        status: int,
        sent: int,
        user_agent: str,
        address: str,
    ) -> None:
        """One response: of ``feed`` in format ``fmt`` and ``variant``, to ``partner`` (""
        for the public), with ``status`` and ``sent`` body bytes, at POSIX time ``now``."""
        report = client = None
        day = 0
        if not partner and (status == 200 or status == 304):  # a public read
            report = aggregator(user_agent)
            if report is None:
                day = int(now // 86400)
                salt = self._salts.get(day)
                if salt is None:
                    salt = self._load_salt(day)
                if salt is not None:
                    client = client_hash(salt, feed, address, user_agent)
        key = (int(now // 3600), feed, variant, partner, status)
        with self._lock:
            counts = self._requests.get(key)
            if counts is None:
                self._requests[key] = [1, sent, int(now)]
            else:
                counts[0] += 1
                counts[1] += sent
                counts[2] = int(now)
            if report is not None:
                subscription = (feed, fmt, report.name, report.feed_id)
                if (
                    subscription in self._subscribers
                    or len(self._subscribers) < MAX_PENDING_SUBSCRIPTIONS
                ):
                    self._subscribers[subscription] = (report.subscribers, now)
            elif client is not None:
                self._add_client(day, feed, client)

    def _add_client(self, day: int, feed: str, client: str) -> None:
        remembered_day, remembered = self._remembered
        if remembered_day == day and client in remembered:
            return  # flushed already today
        pending = self._clients.setdefault((day, feed), set())
        if client not in pending and self._pending_clients < MAX_PENDING_CLIENTS:
            pending.add(client)
            self._pending_clients += 1

    def _load_salt(self, day: int) -> bytes | None:
        salt = self.salt_for(_day(day))
        if salt is not None:
            with self._lock:
                self._salts[day] = salt
                for old in [d for d in self._salts if d < day - 1]:
                    del self._salts[old]
        return salt

    def prepare(self, today: date) -> None:
        """Have today's and tomorrow's salts at hand (the flusher calls this), so that no
        request waits for one at midnight."""
        number = (today - EPOCH_DAY).days
        for day in (number, number + 1):
            if day not in self._salts:
                self._load_salt(day)

    def drain(self) -> ReadershipBatch:
        """Everything counted since the last drain, as one batch; the tally starts again."""
        with self._lock:
            requests, self._requests = self._requests, {}
            subscribers, self._subscribers = self._subscribers, {}
            clients, self._clients = self._clients, {}
            self._pending_clients = 0
            for (day, _feed), hashes in clients.items():
                remembered_day, remembered = self._remembered
                if day > remembered_day:  # a new day: yesterday's hashes are not seen again
                    remembered = set()
                    self._remembered = (day, remembered)
                elif day < remembered_day:
                    continue
                if len(remembered) + len(hashes) <= MAX_REMEMBERED_CLIENTS:
                    remembered.update(hashes)
        return ReadershipBatch(
            requests=tuple(
                RequestTally(_hour(h), feed, variant, partner, status, n, sent, _moment(last))
                for (h, feed, variant, partner, status), (n, sent, last) in requests.items()
            ),
            subscribers=tuple(
                SubscriberReport(feed, fmt, name, feed_id, figure, _moment(when))
                for (feed, fmt, name, feed_id), (figure, when) in subscribers.items()
            ),
            clients=tuple(
                ClientSighting(_day(day), feed, client)
                for (day, feed), hashes in clients.items()
                for client in sorted(hashes)
            ),
        )

    def restore(self, batch: ReadershipBatch) -> None:
        """Take back a drained batch that could not be stored, to be flushed again."""
        with self._lock:
            for r in batch.requests:
                key = (int(r.hour.timestamp()) // 3600, r.feed, r.variant, r.partner, r.status)
                counts = self._requests.setdefault(key, [0, 0, 0])
                counts[0] += r.requests
                counts[1] += r.bytes
                counts[2] = max(counts[2], int(r.last_seen.timestamp()))
            for s in batch.subscribers:
                subscription = (s.feed, s.format, s.aggregator, s.feed_id)
                newer = self._subscribers.get(subscription)
                if newer is None or newer[1] < s.reported.timestamp():
                    self._subscribers[subscription] = (s.subscribers, s.reported.timestamp())
            for c in batch.clients:
                pending = self._clients.setdefault(((c.day - EPOCH_DAY).days, c.feed), set())
                if c.client not in pending and self._pending_clients < MAX_PENDING_CLIENTS:
                    pending.add(c.client)
                    self._pending_clients += 1
