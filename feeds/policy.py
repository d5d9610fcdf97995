"""Pure decisions about fetching and publishing: when next, what a fetch makes of a source's
state, whether a failure counts, what to keep, when to retry a hub, how often a feed changes,
which variants of a feed partners read.

``now`` and randomness are passed in; nothing here does I/O.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from feeds.times import parse_http_date, utc
from feeds.types import (
    Config,
    ContentMode,
    EventType,
    FeedSpec,
    FetchResult,
    FetchStatus,
    Partner,
    Source,
    SourceState,
    SourceStatus,
)

MAX_DELAY = timedelta(hours=24)  # a failing source is retried at least daily, never abandoned
MAX_RETRY_AFTER = timedelta(days=7)  # a Retry-After beyond this is treated as this
MAX_FEED_TTL = timedelta(days=1)  # what a feed may ask of our schedule, at most
JITTER = 0.1  # successes: +/- 10 % of the interval; failures: + up to 10 %
# Failures that a retry soon will probably not fix.
PERSISTENT_FLOOR = timedelta(hours=1)
TRANSIENT_FLOOR = timedelta(minutes=1)
TRANSIENT_START = timedelta(minutes=10)
# WebSub pings: retried from 30 s, doubling, at most an hour apart, given up after 8 attempts.
HUB_FIRST_RETRY = timedelta(seconds=30)
HUB_MAX_RETRY = timedelta(hours=1)
HUB_MAX_ATTEMPTS = 8

WEBHOOK_FIRST_RETRY = timedelta(seconds=10)
WEBHOOK_MAX_RETRY = timedelta(hours=1)
WEBHOOK_GIVE_UP = timedelta(days=1)  # an event is retried for a day, then given up
FAILING_AFTER = 3  # consecutive counted failures that make a source "failing" (webhooks)

MIN_FEED_TTL = timedelta(minutes=5)  # a published feed's ttl, at least
CLAMP_SECONDS = 10 * 365 * 86400  # larger numbers from upstream headers mean "forever"
NOT_COUNTED = " (not counted yet: no upstream has answered since)"


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Parse a Retry-After header: delay-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), CLAMP_SECONDS))
    return _until(value, now)


def _until(http_date: str, now: datetime) -> timedelta | None:
    """Time from ``now`` until an HTTP date (zero if past); None if it is not a date."""
    when = parse_http_date(http_date, zoneless_as_utc=True)
    return None if when is None else max(when - now, timedelta(0))


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
    return result.error_kind is not None and result.error_kind.persistent


def is_network_level(result: FetchResult) -> bool:
    """A failure before any answer (DNS, connection, timeout, TLS): it may be our network's."""
    return (
        result.status is FetchStatus.ERROR
        and result.http_status is None
        and result.error_kind is not None
        and result.error_kind.network_level
    )


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
    what the feed asks for (``min_interval``: its <ttl> or sy:updatePeriod) or the response's
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
        return utc(now + max(jittered, floor))
    if result.http_status in (429, 503):
        asked_delay = retry_after(result.retry_after, now)
        if asked_delay is not None:
            return utc(now + min(asked_delay, MAX_RETRY_AFTER))
    if is_persistent(result):
        base = max(interval, PERSISTENT_FLOOR)
    else:
        base = max(min(interval, TRANSIENT_START), TRANSIENT_FLOOR)
    delay: timedelta = min(base * (2 ** max(failures - 1, 0)), MAX_DELAY)
    spread: timedelta = delay * (1 + rng.uniform(0, JITTER))
    return utc(now + min(spread, MAX_DELAY))


def failure_counts(result: FetchResult, network_works: bool) -> bool:
    """Whether this failure counts against the source.

    A network-level failure (DNS, connection, timeout, TLS) counts only with evidence that
    our own network works (``network_works``: some upstream answered at the same time, or
    since this source first failed that way). Without it, our network may be down, and no
    source is marked broken for that.
    """
    if result.status is not FetchStatus.ERROR:
        return False
    return not is_network_level(result) or network_works


def next_status(
    source: Source,
    status: SourceStatus,
    result: FetchResult,
    now: datetime,
    rng: random.Random,
    *,
    body_hash: str | None,
    feed_ttl: timedelta | None,
    network_works: bool,
    warning: str | None = None,
) -> SourceStatus:
    """A source's state after a fetch (``result`` includes parsing: a body that is not a
    feed is an error here). ``body_hash``, ``feed_ttl`` and ``warning`` describe the body just
    read (the previous ones when none was parsed); ``network_works`` says whether some
    upstream has answered since this source's last network-level failure.

    - Success: validators and hash kept, failures reset, next fetch after the interval (never
      sooner than the feed's own ttl, capped at a day).
    - A network-level failure without proof that our network works: not counted; noted with
      ``suspect_since`` and retried with the backoff the source already has.
    - Any other failure: counted, with backoff; 410 makes the source gone. A network-level one
      sets ``suspect_since``, so that during an outage of our own it is counted once at most.
    - A permanent redirect is adopted only once the new address gave a feed (or a 304).
    """
    moved_to = status.moved_to
    if result.permanent_url and result.status is not FetchStatus.ERROR:
        moved_to = result.permanent_url if result.permanent_url != source.url else None
    seen = replace(
        status,
        url=source.url,
        last_fetch=now,
        last_http_status=result.http_status,
        moved_to=moved_to,
    )
    if result.status is not FetchStatus.ERROR:
        ttl = min(feed_ttl, MAX_FEED_TTL) if feed_ttl is not None else None
        return replace(
            seen,
            state=SourceState.OK,
            etag=result.etag,
            last_modified=result.last_modified,
            body_hash=body_hash,
            last_success=now,
            last_error=None,
            failures=0,
            suspect_since=None,
            feed_ttl=ttl,
            warning=warning,
            next_fetch=next_attempt(source.interval, result, 0, now, rng, min_interval=ttl),
        )
    if not failure_counts(result, network_works):
        return replace(
            seen,
            last_error=f"{result.error}{NOT_COUNTED}",
            suspect_since=status.suspect_since or now,
            next_fetch=next_attempt(source.interval, result, max(status.failures, 1), now, rng),
        )
    failures = status.failures + 1
    return replace(
        seen,
        state=SourceState.GONE if result.http_status == 410 else SourceState.ERROR,
        last_error=result.error,
        failures=failures,
        suspect_since=now if is_network_level(result) else None,
        next_fetch=next_attempt(source.interval, result, failures, now, rng),
    )


def after_internal_error(
    source: Source,
    status: SourceStatus,
    failed: FetchResult,
    now: datetime,
    rng: random.Random,
) -> SourceStatus:
    """A source's state after a bug or a database error while refreshing it (``failed``
    says what): a failure with backoff, shown on /sources, so that the source is not hammered;
    what was known of the upstream (its last HTTP status, validators, suspicion of our own
    network) stays as it was."""
    failures = status.failures + 1
    return replace(
        status,
        url=source.url,
        state=SourceState.ERROR,
        last_fetch=now,
        last_error=failed.error,
        failures=failures,
        next_fetch=next_attempt(source.interval, failed, failures, now, rng),
    )


def due(status: SourceStatus | None, now: datetime, fetch_hash: str = "") -> bool:
    """Whether a source should be fetched now: its next attempt has come (the interval,
    Retry-After, backoff), it is not gone (410), or it failed under other [fetch] settings
    than today's (``fetch_hash``; their backoff says nothing about these), unless the
    upstream itself asked us to wait (429, 503: its Retry-After always holds)."""
    if status is None:
        return True
    if status.state is SourceState.GONE:
        return False
    if (
        status.state is SourceState.ERROR
        and fetch_hash
        and status.fetch_hash
        and status.fetch_hash != fetch_hash
        and status.last_http_status not in (429, 503)
    ):
        return True
    return status.next_fetch is None or status.next_fetch <= now


def hub_retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to retry a WebSub ping that failed for the ``attempts``-th time (1 = first);
    None when it is given up."""
    if attempts >= HUB_MAX_ATTEMPTS:
        return None
    delay = min(HUB_FIRST_RETRY * 2 ** (attempts - 1), HUB_MAX_RETRY)
    return utc(now + delay)


def feed_ttl(config: Config, spec: FeedSpec) -> timedelta:
    """How often a feed is expected to change: its most frequent input (a source's interval,
    the articles' when it merges local articles), at least MIN_FEED_TTL."""
    wanted = set(config.source_ids_for(spec))
    intervals = [s.interval for s in config.sources if s.id in wanted]
    if spec.local is not False:
        intervals.append(config.site.articles_interval)
    return max(min(intervals, default=MIN_FEED_TTL), MIN_FEED_TTL)


def retention_victims(
    rows: Sequence[tuple[str, datetime]],
    latest: set[str],
    now: datetime,
    max_items: int | None,
    max_age: timedelta | None,
) -> list[str]:
    """Ids to drop from a source's stored entries (``rows``: newest first).

    Entries beyond the newest ``max_items``, or published before ``now - max_age``, go —
    except those in the latest fetch (``latest``), which are always kept.
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


# --------------------------------------------------------------------------- partners


def variants(spec: FeedSpec, partners: Iterable[Partner]) -> dict[str, ContentMode]:
    """The current documents a feed is published as: ``""``, the feed's own (its
    ``content``), and one more for each content mode in which a partner granted the feed
    reads it, when that differs from the feed's own (named by the mode: ``"full"``)."""
    found = {"": spec.content}
    for partner in partners:
        if partner.reads(spec.name) and partner.content is not spec.content:
            found[partner.content.value] = partner.content
    return found


def variant_for(spec: FeedSpec, partner: Partner) -> str:
    """Which of ``variants`` a partner granted the feed receives."""
    return "" if partner.content is spec.content else partner.content.value


def webhook_retry_at(attempts: int, failing_since: datetime, now: datetime) -> datetime | None:
    """When to retry a webhook event whose delivery failed for the ``attempts``-th time
    (1 = first), the first failure having been at ``failing_since``: 10 s, 20 s, 40 s, …
    doubling up to an hour apart; None (given up) once a retry would fall more than a day
    after the first failure."""
    exponent = min(max(attempts - 1, 0), 20)
    retry = utc(now + min(WEBHOOK_FIRST_RETRY * 2**exponent, WEBHOOK_MAX_RETRY))
    if retry > failing_since + WEBHOOK_GIVE_UP:
        return None
    return retry


def is_failing(status: SourceStatus) -> bool:
    """Whether a source counts as failing for the webhooks: gone (410), or FAILING_AFTER
    counted failures in a row (a single failed fetch, or an outage of our own network that
    is not counted, is not news)."""
    if status.state is SourceState.GONE:
        return True
    return status.state is SourceState.ERROR and status.failures >= FAILING_AFTER


def source_event(before: SourceStatus, after: SourceStatus) -> EventType | None:
    """The webhooks' event a source's new state makes, if any: source.failing once when it
    starts failing, source.recovered once when a failing source succeeds again."""
    if not is_failing(before) and is_failing(after):
        return EventType.SOURCE_FAILING
    if is_failing(before) and after.state is SourceState.OK:
        return EventType.SOURCE_RECOVERED
    return None
