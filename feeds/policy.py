"""Pure decisions about when to fetch a source next. `now` and randomness are passed in."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from feeds.types import FetchResult, FetchStatus

MAX_BACKOFF = timedelta(hours=24)
MIN_BACKOFF = timedelta(minutes=1)
JITTER = 0.1  # +/- 10 % of the interval


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def next_attempt(
    interval: timedelta,
    result: FetchResult,
    failures: int,
    now: datetime,
    rng: random.Random | None = None,
    min_interval: timedelta | None = None,
) -> datetime:
    """When to fetch next, given this fetch's result and the consecutive failures so far.

    Success: the source's interval with jitter, never sooner than `min_interval` (what the
    feed itself asks for). Failure: exponential backoff from the interval, doubling per
    consecutive failure, with jitter, capped at a day; Retry-After is honoured exactly.
    """
    return _whole_seconds(_next_attempt(interval, result, failures, now, rng, min_interval))


def _whole_seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def _next_attempt(
    interval: timedelta,
    result: FetchResult,
    failures: int,
    now: datetime,
    rng: random.Random | None,
    min_interval: timedelta | None,
) -> datetime:
    rng = rng or random.Random()
    if result.status is not FetchStatus.ERROR:
        base = max(interval, min_interval or timedelta(0))
        return now + base * (1 + rng.uniform(-JITTER, JITTER))
    asked = retry_after(result.retry_after, now) if result.http_status in (429, 503) else None
    if asked is not None:
        return now + asked
    base = max(interval, MIN_BACKOFF)
    delay: timedelta = min(base * (2 ** max(failures - 1, 0)), MAX_BACKOFF)
    spread: timedelta = delay * (1 + rng.uniform(0, JITTER))
    return now + min(spread, MAX_BACKOFF)
