"""Pure decisions about fetching: when next, what to keep, whether a failure counts.

`now` and randomness are passed in; nothing here does I/O.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from feeds.types import FetchResult, FetchStatus

MAX_DELAY = timedelta(hours=24)  # a failing source is retried at least daily, never abandoned
MAX_RETRY_AFTER = timedelta(days=7)  # a Retry-After beyond this is treated as this
JITTER = 0.1  # successes: +/- 10 % of the interval; failures: + up to 10 %
# Failures that say nothing about the upstream when our own network is down.
NETWORK_KINDS = frozenset({"network", "dns", "timeout", "tls"})
# Failures that a retry soon will probably not fix.
PERSISTENT_FLOOR = timedelta(hours=1)
TRANSIENT_FLOOR = timedelta(minutes=1)
TRANSIENT_START = timedelta(minutes=10)

CLAMP_SECONDS = 10 * 365 * 86400  # larger numbers from upstream headers mean "forever"

DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def duration_bucket(seconds: float) -> str:
    """The Prometheus `le` label of the smallest bucket holding `seconds`."""
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return "+Inf"


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), CLAMP_SECONDS))
    return _until(value, now)


def _until(http_date: str, now: datetime) -> timedelta | None:
    """Time from `now` until an HTTP date (zero if past); None if it is not a date."""
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)


def cache_lifetime(headers: Iterable[tuple[str, str]], now: datetime) -> timedelta | None:
    """How long the response says it stays fresh: Cache-Control max-age, else Expires."""
    found = {name.lower(): value for name, value in headers}
    control = found.get("cache-control", "")
    match = _MAX_AGE.search(control)
    if match:
        return timedelta(seconds=min(int(match.group(1)), CLAMP_SECONDS))
    if "no-cache" in control.lower() or "no-store" in control.lower():
        return None
    expires = found.get("expires")
    return _until(expires, now) if expires else None


def is_persistent(result: FetchResult) -> bool:
    """A failure that a quick retry will not fix: a 4xx answer, a body that is not a feed."""
    if result.http_status is not None and 400 <= result.http_status < 500:
        return result.http_status not in (408, 425, 429)
    return result.error_kind in {"parse", "too_large", "refused", "redirects"}


def next_attempt(
    interval: timedelta,
    result: FetchResult,
    failures: int,
    now: datetime,
    rng: random.Random | None = None,
    min_interval: timedelta | None = None,
) -> datetime:
    """When to fetch next, given this fetch's result and the consecutive failures so far
    (including this one).

    Success (or not modified): the source's interval with +/- 10 % jitter, never sooner than
    what the feed asks for (`min_interval`: its <ttl> or sy:updatePeriod) or the response's
    Cache-Control max-age / Expires; those are capped at a day.
    Failure: Retry-After on 429/503 is honoured exactly (up to a week). Otherwise exponential
    backoff with jitter, doubling per consecutive failure: network errors and 5xx start at
    min(interval, 10 min); 4xx answers and bodies that are not feeds start at max(interval,
    1 h). Every delay is capped at a day, so a source is never silently abandoned.
    """
    rng = rng or random.Random()
    if result.status is not FetchStatus.ERROR:
        asked = [min_interval or timedelta(0), cache_lifetime(result.headers, now) or timedelta(0)]
        floor = min(max(asked), MAX_DELAY)
        jittered: timedelta = interval * (1 + rng.uniform(-JITTER, JITTER))
        return _seconds(now + max(jittered, floor))
    if result.http_status in (429, 503):
        asked_delay = retry_after(result.retry_after, now)
        if asked_delay is not None:
            return _seconds(now + min(asked_delay, MAX_RETRY_AFTER))
    if is_persistent(result):
        base = max(interval, PERSISTENT_FLOOR)
    else:
        base = max(min(interval, TRANSIENT_START), TRANSIENT_FLOOR)
    delay: timedelta = min(base * (2 ** max(failures - 1, 0)), MAX_DELAY)
    spread: timedelta = delay * (1 + rng.uniform(0, JITTER))
    return _seconds(now + min(spread, MAX_DELAY))


def _seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def failure_counts(result: FetchResult, network_works: bool) -> bool:
    """Whether this failure counts against the source.

    A network-level failure (DNS, connection, timeout, TLS) counts only with evidence that
    our own network works (`network_works`: some upstream answered at the same time, or since
    this source first failed that way). Without it, our network may be down, and no source is
    marked broken for that.
    """
    if result.status is not FetchStatus.ERROR:
        return False
    if result.error_kind not in NETWORK_KINDS or result.http_status is not None:
        return True
    return network_works


def retention_victims(
    rows: Sequence[tuple[str, datetime]],
    latest: set[str],
    now: datetime,
    max_items: int | None,
    max_age: timedelta | None,
) -> list[str]:
    """Ids to drop from a source's stored entries (`rows`: newest first).

    Entries beyond the newest `max_items`, or published before `now - max_age`, go —
    except those in the latest fetch (`latest`), which are always kept.
    """
    cutoff = now - max_age if max_age is not None else None
    victims = []
    for rank, (entry_id, published) in enumerate(rows):
        if entry_id in latest:
            continue
        if (max_items is not None and rank >= max_items) or (
            cutoff is not None and published < cutoff
        ):
            victims.append(entry_id)
    return victims
