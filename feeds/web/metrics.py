"""`/metrics` in the Prometheus text exposition format (version 0.0.4).

Counters come from the database (the clock process counts every fetch there, and every web
process flushes its readership counts there every few seconds), so every web node reports the
same monotonic values whichever node a scraper reaches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from flask import Blueprint, Response, current_app

from feeds.readership import utc_day
from feeds.times import utcnow
from feeds.types import (
    ARTICLE_PROBLEMS,
    DURATION_LABELS,
    Config,
    FetchStatus,
    Readership,
    SourceCounters,
    SourceState,
    SourceStatus,
    WebhookState,
)
from feeds.urls import public_url
from feeds.web import WebState, state
from feeds.web.status import config_problems, failing

bp = Blueprint("metrics", __name__)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class _Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, text: str) -> None:
        self.lines.append(f"# HELP {name} {text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, labels: Iterable[tuple[str, str]], value: float) -> None:
        rendered = ",".join(f'{k}="{_label(v)}"' for k, v in labels)
        head = f"{name}{{{rendered}}}" if rendered else name
        self.lines.append(f"{head} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def exposition() -> str:
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    statuses = web.store.source_statuses()
    counts = web.store.counters()
    out = _Exposition()
    ids = [s.id for s in config.sources]

    none = SourceCounters()
    out.family("feeds_source_fetches_total", "counter", "Fetches of each source, by outcome.")
    for sid in ids:
        for outcome in FetchStatus:
            value = counts.get(sid, none).fetches(outcome)
            out.sample("feeds_source_fetches_total", (("source", sid), ("outcome", outcome)), value)
    for name, field, text in (
        ("feeds_source_new_entries_total", "new_entries", "New entries stored per source."),
        ("feeds_source_updated_entries_total", "updated_entries", "Entries whose content changed."),
        ("feeds_source_fetched_bytes_total", "bytes", "Body bytes read (after decompression)."),
    ):
        out.family(name, "counter", text)
        for sid in ids:
            out.sample(name, (("source", sid),), getattr(counts.get(sid, none), field))

    name = "feeds_source_fetch_duration_seconds"
    out.family(name, "histogram", "Time each fetch took, headers and body.")
    for sid in ids:
        mine = counts.get(sid, none)
        running = 0.0
        for bound, count in zip(DURATION_LABELS, mine.duration_buckets, strict=True):
            running += count
            out.sample(f"{name}_bucket", (("source", sid), ("le", bound)), running)
        out.sample(f"{name}_sum", (("source", sid),), mine.duration_sum)
        out.sample(f"{name}_count", (("source", sid),), mine.duration_count)

    out.family("feeds_source_up", "gauge", "1 when the source's last counted fetch succeeded.")
    for source in config.sources:
        status = statuses.get(source.id)
        up = 1.0 if status is not None and status.state is SourceState.OK else 0.0
        out.sample("feeds_source_up", (("source", source.id),), up)
    out.family("feeds_source_consecutive_failures", "gauge", "Failed fetches in a row.")
    for sid in ids:
        status = statuses.get(sid)
        out.sample(
            "feeds_source_consecutive_failures",
            (("source", sid),),
            status.failures if status else 0,
        )
    out.family(
        "feeds_source_last_success_timestamp_seconds", "gauge", "When the source last succeeded."
    )
    for sid in ids:
        status = statuses.get(sid)
        when = status.last_success.timestamp() if status and status.last_success else 0.0
        out.sample("feeds_source_last_success_timestamp_seconds", (("source", sid),), when)
    out.family("feeds_source_entries", "gauge", "Entries stored per source.")
    for sid in ids:
        status = statuses.get(sid)
        out.sample("feeds_source_entries", (("source", sid),), status.entry_count if status else 0)

    out.family("feeds_hub_pings_pending", "gauge", "WebSub notifications not delivered yet.")
    out.sample("feeds_hub_pings_pending", (), len(web.store.pending_hub_pings()))
    desk(out, web, config, statuses)
    webhooks(out, web.store.webhook_states(config.site.webhooks) if config.site.webhooks else [])
    readership(out, config, web.store.readership())
    return out.text()


def desk(
    out: _Exposition, web: WebState, config: Config, statuses: Mapping[str, SourceStatus]
) -> None:
    """What /status shows editors, as numbers: problems, failing sources, the clock."""
    name = "feeds_config_problems"
    out.family(name, "gauge", "Problems of the config files (the last good config runs).")
    out.sample(name, (), len(config_problems(web.watcher.last_problems)))
    name = "feeds_article_problems"
    out.family(name, "gauge", "Problems of the local article files, one per file and key.")
    out.sample(name, (), len(web.store.problems(ARTICLE_PROBLEMS)))
    name = "feeds_sources_failing"
    out.family(name, "gauge", "Sources whose last counted fetch failed (error or gone).")
    out.sample(name, (), len(failing(config, statuses)))
    now = utcnow()
    beats = web.store.clocks()
    active = next((b for b in beats if b.active), None)
    name = "feeds_clock_heartbeat_age_seconds"
    out.family(name, "gauge", "Seconds since the active clock's last heartbeat (+Inf: none).")
    out.sample(name, (), active.age(now).total_seconds() if active else math.inf)
    name = "feeds_clock_up"
    out.family(name, "gauge", "1 when the newest clock heartbeat is recent (a clock is running).")
    out.sample(name, (), 1 if beats and not beats[0].stale(now) else 0)
    name = "feeds_clock_standbys"
    out.family(name, "gauge", "Clocks standing by, ready to take over (recent heartbeat).")
    out.sample(name, (), sum(1 for b in beats if not b.active and not b.stale(now)))


def webhooks(out: _Exposition, states: Sequence[WebhookState]) -> None:
    """Each webhook's backlog, delivery state and failures, labelled by its shown URL."""
    for name, kind, text, value in (
        ("feeds_webhook_backlog", "gauge", "Events waiting for the webhook.", "backlog"),
        ("feeds_webhook_delivered_total", "counter", "Events delivered.", "delivered"),
        ("feeds_webhook_given_up_total", "counter", "Events given up after a day.", "given_up"),
    ):
        out.family(name, kind, text)
        for s in states:
            out.sample(name, (("webhook", public_url(s.url)),), getattr(s, value))
    name = "feeds_webhook_failing"
    out.family(name, "gauge", "1 while the webhook's next event fails and waits for a retry.")
    for s in states:
        out.sample(name, (("webhook", public_url(s.url)),), 1 if s.attempts else 0)
    name = "feeds_webhook_last_delivery_timestamp_seconds"
    out.family(name, "gauge", "When the webhook last took an event (0: never).")
    for s in states:
        when = s.last_delivery.timestamp() if s.last_delivery else 0.0
        out.sample(name, (("webhook", public_url(s.url)),), when)


def readership(out: _Exposition, config: Config, seen: Readership) -> None:
    """The readership families: requests and bytes per feed (and variant, status), the
    subscribers aggregators report, other clients today, each partner's requests."""
    feeds = {spec.name for spec in config.feeds}
    reads = [r for r in seen.feeds if r.feed in feeds]
    name = "feeds_feed_requests_total"
    out.family(name, "counter", "Requests of each feed document, by variant and status.")
    for r in reads:
        for status, count in r.statuses:
            labels = (("feed", r.feed), ("variant", r.variant or "own"), ("status", str(status)))
            out.sample(name, labels, count)
    name = "feeds_feed_bytes_total"
    out.family(name, "counter", "Body bytes sent of each feed document, by variant.")
    for r in reads:
        out.sample(name, (("feed", r.feed), ("variant", r.variant or "own")), r.bytes)
    public = [spec.name for spec in config.feeds if spec.public]
    name = "feeds_feed_subscribers"
    out.family(name, "gauge", "Subscribers aggregators report (latest figures of the last 7 days).")
    for feed in public:
        out.sample(name, (("feed", feed),), seen.subscribers_of(feed))
    name = "feeds_feed_clients_today"
    out.family(name, "gauge", "Distinct other clients of each public feed today (UTC).")
    today = utc_day(seen.now.timestamp())
    for feed in public:
        out.sample(name, (("feed", feed),), seen.clients_on(feed, today))
    partners = {p.partner: p for p in seen.partners}
    name = "feeds_partner_requests_total"
    out.family(name, "counter", "Requests by each partner, with its key.")
    for partner in config.partners:
        found = partners.get(partner.id)
        out.sample(name, (("partner", partner.id),), found.requests if found else 0)
    name = "feeds_partner_last_seen_timestamp_seconds"
    out.family(name, "gauge", "When each partner last read a feed.")
    for partner in config.partners:
        found = partners.get(partner.id)
        out.sample(name, (("partner", partner.id),), found.last_seen.timestamp() if found else 0)


@bp.route("/metrics", methods=["GET", "HEAD"])
def metrics() -> Response:
    return Response(exposition(), content_type="text/plain; version=0.0.4; charset=utf-8")
