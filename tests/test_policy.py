"""policy.py: when to fetch next, which failures count, what retention drops. Pure."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from feeds import policy
from feeds.types import (
    DURATION_BUCKETS,
    ErrorKind,
    FetchResult,
    FetchStatus,
    Source,
    SourceState,
    SourceStatus,
    duration_bucket,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def ok(**kw: object) -> FetchResult:
    return FetchResult(status=FetchStatus.OK, url="https://x.example/", **kw)  # type: ignore[arg-type]


def error(kind: str = "network", status: int | None = None, **kw: object) -> FetchResult:
    return FetchResult(
        status=FetchStatus.ERROR,
        url="https://x.example/",
        error_kind=ErrorKind(kind),
        http_status=status,
        **kw,  # type: ignore[arg-type]
    )


def delays(result: FetchResult, failures: int, interval: timedelta = HOUR, **kw: object) -> set:  # type: ignore[type-arg]
    rng = random.Random(1)
    return {
        policy.next_attempt(interval, result, failures, NOW, rng, **kw) - NOW  # type: ignore[arg-type]
        for _ in range(200)
    }


def test_success_uses_the_interval_with_jitter() -> None:
    seen = delays(ok(), 0)
    assert min(seen) >= timedelta(minutes=54) and max(seen) <= timedelta(minutes=66)
    assert len(seen) > 50  # really jittered
    assert all(d.microseconds == 0 for d in seen)


def test_never_sooner_than_the_feed_or_the_response_asks() -> None:
    assert min(delays(ok(), 0, min_interval=timedelta(hours=3))) == timedelta(hours=3)
    cached = ok(headers=(("cache-control", "public, max-age=7200"),))
    assert min(delays(cached, 0)) == timedelta(hours=2)
    expires = ok(headers=(("expires", "Fri, 20 Nov 2026 16:00:00 GMT"),))
    assert min(delays(expires, 0)) == timedelta(hours=4)
    # a hostile "come back in a year" is capped at a day
    forever = ok(headers=(("cache-control", "max-age=31536000"),))
    assert max(delays(forever, 0)) == timedelta(days=1)
    # shorter hints never make us fetch sooner than the interval
    assert min(delays(ok(headers=(("cache-control", "max-age=60"),)), 0)) >= timedelta(minutes=54)


@pytest.mark.parametrize(
    "value",
    ["120", "Fri, 20 Nov 2026 12:02:00 GMT"],
)
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_exactly(value: str, status: int) -> None:
    result = error("http", status, retry_after=value)
    assert delays(result, 1) == {timedelta(minutes=2)}
    assert delays(result, 5) == {timedelta(minutes=2)}


def backoff(seen: set, base: timedelta) -> bool:  # type: ignore[type-arg]
    """Every delay is the base plus up to 10 % jitter (whole seconds)."""
    return base <= min(seen) and max(seen) <= base * 1.1 and len(seen) > 10


def test_network_and_5xx_failures_back_off_exponentially_and_cap_at_a_day() -> None:
    minute = timedelta(minutes=1)
    assert backoff(delays(error("network"), 1), 10 * minute)
    assert backoff(delays(error("network"), 2), 20 * minute)
    assert backoff(delays(error("timeout"), 3), 40 * minute)
    assert backoff(delays(error("http", 502), 1), 10 * minute)
    assert backoff(delays(error("network"), 1, interval=5 * minute), 5 * minute)
    assert delays(error("network"), 30) == {timedelta(days=1)}


def test_client_errors_back_off_from_an_hour() -> None:
    quarter = timedelta(minutes=15)
    assert backoff(delays(error("http", 404), 1, interval=quarter), HOUR)
    assert backoff(delays(error("parse"), 2, interval=quarter), 2 * HOUR)
    assert delays(error("http", 404), 20) == {timedelta(days=1)}


def test_network_failures_count_only_when_the_network_works() -> None:
    assert not policy.failure_counts(error("dns"), network_works=False)
    assert policy.failure_counts(error("dns"), network_works=True)
    assert policy.failure_counts(error("http", 500), network_works=False)
    assert policy.failure_counts(error("parse"), network_works=False)
    assert not policy.failure_counts(ok(), network_works=True)


def test_retention_keeps_the_latest_fetch_and_drops_the_rest() -> None:
    rows = [(f"e{n}", NOW - timedelta(days=n)) for n in range(6)]  # newest first
    assert policy.retention_victims(rows, set(), NOW, 3, None) == ["e3", "e4", "e5"]
    assert policy.retention_victims(rows, {"e4"}, NOW, 3, None) == ["e3", "e5"]
    assert policy.retention_victims(rows, set(), NOW, None, timedelta(days=2, hours=1)) == [
        "e3",
        "e4",
        "e5",
    ]
    assert policy.retention_victims(rows, {"e0", "e5"}, NOW, 1, None) == ["e1", "e2", "e3", "e4"]


def test_duration_buckets() -> None:
    assert DURATION_BUCKETS[duration_bucket(0.01)] == 0.05
    assert DURATION_BUCKETS[duration_bucket(0.3)] == 0.5
    assert duration_bucket(99) == len(DURATION_BUCKETS)  # the last bucket: +Inf


# --------------------------------------------------------------------------- next status

SOURCE = Source(id="s", url="https://x.example/feed", title="S", interval=HOUR)


def after(
    result: FetchResult, status: SourceStatus | None = None, *, works: bool = True
) -> SourceStatus:
    return policy.next_status(
        SOURCE,
        status or SourceStatus(id="s", url=SOURCE.url),
        result,
        NOW,
        random.Random(1),
        body_hash="h",
        feed_ttl=timedelta(days=3),
        network_works=works,
    )


def test_a_success_resets_failures_and_keeps_validators() -> None:
    failing = SourceStatus(id="s", url=SOURCE.url, state=SourceState.ERROR, failures=4)
    status = after(ok(etag='"e"', http_status=200), failing)
    assert (status.state, status.failures, status.etag, status.body_hash) == (
        SourceState.OK,
        0,
        '"e"',
        "h",
    )
    assert status.last_success == NOW and status.last_error is None
    assert status.feed_ttl == policy.MAX_FEED_TTL  # what a feed asks is capped at a day
    assert status.next_fetch == NOW + policy.MAX_FEED_TTL


def test_a_network_failure_without_proof_our_network_works_is_not_counted() -> None:
    status = after(error("dns", error="cannot resolve x.example"), works=False)
    assert (status.state, status.failures) == (SourceState.NEW, 0)
    assert status.suspect_since == NOW and "not counted yet" in (status.last_error or "")
    counted = after(error("dns", error="cannot resolve x.example"), works=True)
    assert (counted.state, counted.failures, counted.suspect_since) == (
        SourceState.ERROR,
        1,
        NOW,
    )


def test_gone_and_other_failures_are_counted_with_backoff() -> None:
    gone = after(error("http", 410, error="HTTP 410 Gone"))
    assert (gone.state, gone.failures, gone.suspect_since) == (SourceState.GONE, 1, None)
    broken = after(error("parse", error="not a feed"), works=False)
    assert (broken.state, broken.failures) == (SourceState.ERROR, 1)
    assert broken.next_fetch is not None and broken.next_fetch - NOW >= HOUR


def test_a_permanent_redirect_is_adopted_only_with_a_feed() -> None:
    moved = "https://y.example/feed"
    assert after(ok(permanent_url=moved, http_status=200)).moved_to == moved
    assert after(error("parse", 200, permanent_url=moved)).moved_to is None
    back = SourceStatus(id="s", url=SOURCE.url, moved_to=moved)
    assert after(ok(permanent_url=SOURCE.url, http_status=200), back).moved_to is None


def test_hub_pings_back_off_then_give_up() -> None:
    delays = [policy.hub_retry_at(n, NOW) for n in range(1, 9)]
    # 30 s, doubling (the hour's cap is never reached before the eighth attempt)
    assert [d - NOW for d in delays[:-1] if d is not None] == [
        timedelta(seconds=30 * 2**n) for n in range(7)
    ]
    assert delays[-1] is None  # the eighth failure: given up


def test_due_respects_backoff_and_gone() -> None:
    assert policy.due(None, NOW)
    later = SourceStatus(id="s", url=SOURCE.url, next_fetch=NOW + HOUR)
    assert not policy.due(later, NOW) and policy.due(later, NOW + HOUR)
    assert not policy.due(SourceStatus(id="s", url=SOURCE.url, state=SourceState.GONE), NOW)


def test_a_fetch_settings_change_ends_backoff_but_never_a_retry_after() -> None:
    refused = SourceStatus(
        id="s", url=SOURCE.url, state=SourceState.ERROR, next_fetch=NOW + HOUR, fetch_hash="old"
    )
    assert not policy.due(refused, NOW, "old") and policy.due(refused, NOW, "new")
    for code in (429, 503):
        asked = replace(refused, last_http_status=code)
        assert not policy.due(asked, NOW, "new")  # the upstream asked us to wait
    assert not policy.due(replace(refused, state=SourceState.OK), NOW, "new")
