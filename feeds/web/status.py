"""``/status`` and ``/status.json``: what an editor must know, on one page.

- whether a clock is running: the active clock and its last heartbeat, any other clocks, and
  a warning when the newest heartbeat is older than STALE_AFTER (or there is none);
- the problems: the config files' (as this web process's watcher last found them) and the
  article files' (as the clock's last articles sync stored them: the web process never
  parses article files), each as file, key and message;
- the failing sources (state ``error`` or ``gone``): since when, the last error, the next
  attempt;
- the editors' overrides in force (hides, pins, retitles: who, when, why);
- every configured feed (partners-only ones too, marked so: this is the newsroom's page,
  like /metrics) with, per format, the items its current document holds, when it was last
  published, its size, and how many items it left out to stay within the feed's byte budget;
- each webhook's backlog, last delivery and last error (``feeds/web/webhooks.py``).

Read from the store: the web process never renders. The facts of a document are kept per
ETag, so a request reads only the documents' ETags until a feed is published again.
docs/status.md describes every key of ``/status.json``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template

from feeds.store import Store
from feeds.times import rfc3339, utcnow
from feeds.types import (
    ARTICLE_PROBLEMS,
    HEARTBEAT_SECONDS,
    STALE_AFTER,
    ClockBeat,
    Config,
    Document,
    FetchStatus,
    Format,
    Override,
    Problem,
    SourceState,
    SourceStatus,
    shown_state,
    split_problems,
)
from feeds.urls import public_url
from feeds.web import state
from feeds.web.webhooks import webhooks_data

bp = Blueprint("status", __name__)

FORMAT_LABELS = {Format.RSS: "RSS", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}
FAILING = (SourceState.ERROR, SourceState.GONE)
LOG_WINDOW = 200  # fetch-log rows read, at most, to find when a source started failing


def item_count(document: Document) -> int:
    """How many items a published document holds. Items' text is escaped in the XML
    documents, so an item's closing tag is the only place its name appears as a tag."""
    if document.format is Format.RSS:
        return document.body.count(b"</item>")
    if document.format is Format.ATOM:
        return document.body.count(b"</entry>")
    items = json.loads(document.body).get("items")
    return len(items) if isinstance(items, list) else 0


@dataclass(frozen=True)
class Published:
    """What /status shows of one stored document."""

    items: int
    size: int
    last_modified: datetime
    omitted: int


class PublishedFacts:
    """The facts of every feed's current documents, remembered per ETag: a request reads
    the ETags only, and the documents themselves when one of them changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, Format, str], Published] = {}

    def current(self, store: Store) -> dict[tuple[str, Format], Published]:
        etags = store.document_etags()
        with self._lock:
            known = {key: self._known.get((*key, etag)) for key, etag in etags.items()}
        if all(found is not None for found in known.values()):
            return {key: found for key, found in known.items() if found is not None}
        fresh = {
            (d.feed, d.format, d.etag): Published(
                item_count(d), len(d.body), d.last_modified, d.omitted
            )
            for d in store.current_documents()
        }
        with self._lock:
            self._known = fresh  # only what is current: bounded by the feeds and formats
        return {(feed, fmt): found for (feed, fmt, _), found in fresh.items()}


def published_facts(app: Flask) -> PublishedFacts:
    facts = app.extensions.setdefault("feeds.status", PublishedFacts())
    assert isinstance(facts, PublishedFacts)
    return facts


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


# --------------------------------------------------------------------------- the parts


def clock_data(beats: Sequence[ClockBeat], now: datetime) -> dict[str, Any]:
    """The clocks as /status shows them (see docs/status.md). ``beats``: newest first."""
    newest = beats[0] if beats else None
    running = newest is not None and not newest.stale(now)
    active = next((b for b in beats if b.active), None)
    others = [b for b in beats if b is not active]
    claims = sum(1 for b in beats if b.active and not b.stale(now))
    warning = None
    if newest is None:
        warning = "No clock is running: no clock has written a heartbeat to this database."
    elif not running:
        warning = (
            f"No clock is running: the last heartbeat was at {rfc3339(newest.heartbeat)}, "
            f"{int(newest.age(now).total_seconds())} seconds ago. Nothing is fetched or "
            "published until a clock (feeds scheduler, or feeds run) starts."
        )
    elif claims > 1:
        warning = (
            f"{claims} clocks say they are active at once: their machines' clocks disagree "
            "(the lease needs them within seconds of each other: run NTP)."
        )

    def shown(beat: ClockBeat) -> dict[str, Any]:
        return {
            "id": beat.id,
            "host": beat.host,
            "pid": beat.pid,
            "started": rfc3339(beat.started),
            "heartbeat": rfc3339(beat.heartbeat),
            "age_seconds": int(beat.age(now).total_seconds()),
            "active": beat.active,
            "stale": beat.stale(now),
        }

    return {
        "running": running,
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "stale_after_seconds": int(STALE_AFTER.total_seconds()),
        "active": shown(active) if active else None,
        "standbys": [shown(b) for b in others if not b.stale(now)],
        "stopped": [shown(b) for b in others if b.stale(now)],
        "warning": warning,
    }


def config_problems(lines: Sequence[str]) -> list[Problem]:
    """The config loader's ``file: key: problem`` lines, as problems."""
    return [p for line in lines for p in split_problems(line)]


def problem_data(problem: Problem) -> dict[str, Any]:
    shown: dict[str, Any] = {"file": problem.file, "key": problem.key, "message": problem.message}
    if problem.since is not None:
        shown["since"] = rfc3339(problem.since)
    return shown


def failing(config: Config, statuses: Mapping[str, SourceStatus]) -> list[SourceStatus]:
    """The stored states of the configured sources that are failing (error, gone)."""
    return [
        status
        for source in config.sources
        if (status := statuses.get(source.id)) is not None
        and shown_state(source, status) in FAILING
    ]


def failing_since(store: Store, status: SourceStatus) -> datetime | None:
    """The first failed fetch after the source's last success, as far as the fetch log
    (kept 14 days) remembers; None when it has no failed fetch."""
    since = None
    for record in store.recent_fetches(status.id, min(status.failures + 20, LOG_WINDOW)):
        if record.status is not FetchStatus.ERROR:
            break
        since = record.at
    return since


def sources_data(store: Store, config: Config) -> list[dict[str, Any]]:
    private = config.partners_only_sources()
    rows = []
    for status in failing(config, store.source_states()):
        source = config.source(status.id)
        assert source is not None
        rows.append(
            {
                "id": source.id,
                "title": source.title,
                "url": public_url(source.url),
                "partners_only": source.id in private,
                "state": shown_state(source, status).value,
                "since": _iso(failing_since(store, status)),
                "last_success": _iso(status.last_success),
                "failures": status.failures,
                "last_http_status": status.last_http_status,
                "last_error": status.last_error,
                "next_attempt": _iso(status.next_fetch),
            }
        )
    return rows


def feeds_data(config: Config, published: Mapping[tuple[str, Format], Published]) -> list[Any]:
    feeds = []
    for spec in config.feeds:
        formats = {}
        for fmt in Format:
            found = published.get((spec.name, fmt))
            formats[fmt.value] = {
                "label": FORMAT_LABELS[fmt],
                "url": f"/feeds/{spec.name}.{fmt.value}",
                "published": _iso(found.last_modified) if found else None,
                "items": found.items if found else None,
                "omitted": found.omitted if found else None,
                "bytes": found.size if found else None,
            }
        mine = [found for fmt in Format if (found := published.get((spec.name, fmt)))]
        feeds.append(
            {
                "name": spec.name,
                "title": spec.title,
                "access": spec.access.value,
                "limit": spec.limit,
                "max_bytes": spec.max_bytes,
                "published": _iso(max((p.last_modified for p in mine), default=None)),
                "omitted": sum(p.omitted for p in mine),
                "formats": formats,
            }
        )
    return feeds


def overrides_data(overrides: Sequence[Override], now: datetime) -> list[dict[str, Any]]:
    """The editors' overrides in force (``feeds overrides``), oldest first; ended pins are
    left out."""
    return [
        {
            "item": o.item,
            "action": o.action.value,
            "feed": o.feed or None,
            "title": o.value or None,
            "until": _iso(o.until),
            "by": o.by,
            "reason": o.reason,
            "at": rfc3339(o.at),
        }
        for o in overrides
        if o.until is None or o.until > now
    ]


def status_data() -> dict[str, Any]:
    """Everything /status shows, as plain values (the keys of /status.json)."""
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    now = utcnow()
    return {
        "generated": rfc3339(now),
        "clock": clock_data(web.store.clocks(), now),
        "config_problems": [problem_data(p) for p in config_problems(web.watcher.last_problems)],
        "article_problems": [problem_data(p) for p in web.store.problems(ARTICLE_PROBLEMS)],
        "failing_sources": sources_data(web.store, config),
        "overrides": overrides_data(web.store.overrides(), now),
        "feeds": feeds_data(config, published_facts(current_app).current(web.store)),
        "webhooks": webhooks_data(web.store, config),
    }


@bp.route("/status", methods=["GET", "HEAD"])
def status_page() -> Response:
    web = state(current_app)
    page = render_template("status.html", site=web.watcher.current.site, status=status_data())
    headers = {"Cache-Control": "no-cache"}
    return Response(page, content_type="text/html; charset=utf-8", headers=headers)


@bp.route("/status.json", methods=["GET", "HEAD"])
def status_json() -> Response:
    body = json.dumps(status_data(), ensure_ascii=False, indent=2)
    return Response(
        body + "\n",
        content_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )
