"""The webhooks' outbox: events queued in the transaction of the fact that causes them, and
each webhook's delivery state.

``webhook_events`` is a log in ``seq`` order; a webhook's ``cursor`` is the last event it
delivered or gave up on, so delivery is in order per webhook and a failing event holds back
only that webhook's later ones. Events every configured webhook has passed are pruned.

Queuing happens inside other writes: ``item_events`` while a publish records a feed's
items (archives.record_feed_items), ``queue_source_events`` while refreshes are stored
(sources.save_refreshes). A crash before that transaction commits loses the fact and its
event together; after it, both are kept.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.store import codec
from feeds.store.engine import Database
from feeds.store.schema import fetches, sources, webhook_events, webhook_given_up
from feeds.store.schema import webhooks as webhooks_table
from feeds.times import rfc3339
from feeds.types import (
    EventType,
    FetchStatus,
    Item,
    ItemEvents,
    OutboxEvent,
    RefreshWrite,
    Webhook,
    WebhookState,
)
from feeds.urls import public_url


def url_key(url: str) -> str:
    """A webhook's key in the database: the SHA-256 of its URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def event_row(
    kind: EventType, now: datetime, subject: dict[str, Any], feed: str = ""
) -> dict[str, Any]:
    """One event's row in the outbox; its body is the exact JSON every attempt will POST."""
    event_id = str(uuid.uuid4())
    what = "item" if kind.about_items else "source"
    body = {"id": event_id, "type": kind.value, "time": rfc3339(now), what: subject}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return {"id": event_id, "type": kind.value, "feed": feed, "time": now, "body": text}


def queue_event(
    conn: Connection, kind: EventType, now: datetime, subject: dict[str, Any], feed: str = ""
) -> None:
    """Append one event (see ``event_row``)."""
    conn.execute(webhook_events.insert().values(**event_row(kind, now, subject, feed)))


def item_subject(item: Item, feed: str, events: ItemEvents) -> dict[str, Any]:
    return {
        "id": events.published_id(item.id),
        "feed": feed,
        "title": item.title,
        "link": item.link,
        "published": rfc3339(item.published),
        "updated": rfc3339(item.updated),
    }


def item_events(
    feed: str,
    fresh: Sequence[Item],
    recorded: Mapping[str, Any],
    now_in: set[str],
    baseline: bool,
    events: ItemEvents,
    changes: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """The outbox rows of a publish that records ``fresh`` (the new or changed items among
    the feed's items now, whose ids are ``now_in``; oldest first): item.new for the fresh
    items never recorded (unless this is the feed's first publish, its ``baseline``),
    item.updated for those whose modified date moved past the one last seen, item.hidden
    for the items that were current and are hidden now, in that order.

    ``recorded`` holds the feed_items rows of the fresh items already recorded and of the
    items marked current (archives.record_feed_items reads them at once, before writing).
    What is current and the modified dates seen are added to ``changes`` ({item id:
    {column: value}}) for the rows already recorded; new rows are inserted with theirs."""
    rows: list[dict[str, Any]] = []
    new_ids = set()
    for item in fresh:
        row = recorded.get(item.id)
        if row is None:
            new_ids.add(item.id)
            if not baseline:
                subject = item_subject(item, feed, events)
                rows.append(event_row(EventType.ITEM_NEW, events.now, subject, feed))
            continue
        seen = row.seen_updated
        if seen is not None and item.updated > seen:
            subject = item_subject(item, feed, events)
            rows.append(event_row(EventType.ITEM_UPDATED, events.now, subject, feed))
        if seen != item.updated:
            changes.setdefault(item.id, {})["seen_updated"] = item.updated
    was = {item_id for item_id, row in recorded.items() if row.current}
    for item_id, row in recorded.items():
        if item_id not in was or item_id in now_in:
            continue
        item = codec.item_from_json(codec.loads(row.data))
        if events.hidden(item):
            subject = item_subject(item, feed, events)
            rows.append(event_row(EventType.ITEM_HIDDEN, events.now, subject, feed))
        changes.setdefault(item_id, {})["current"] = False
    for item_id in sorted(now_in - was - new_ids):
        changes.setdefault(item_id, {})["current"] = True
    return rows


def queue_source_events(conn: Connection, writes: Iterable[RefreshWrite]) -> None:
    """source.failing / source.recovered of the refreshes being stored (before their
    sources rows and fetch-log rows are written): ``since`` is the first failed fetch after
    the source's last good one; ``error`` the error (for recovered: the last one before)."""
    for w in writes:
        if w.event is None:
            continue
        sid = w.status.id
        good = sa.select(sa.func.max(fetches.c.at)).where(
            fetches.c.source_id == sid, fetches.c.status != FetchStatus.ERROR.value
        )
        since = conn.execute(
            sa.select(sa.func.min(fetches.c.at)).where(
                fetches.c.source_id == sid,
                fetches.c.status == FetchStatus.ERROR.value,
                sa.or_(good.scalar_subquery().is_(None), fetches.c.at > good.scalar_subquery()),
            )
        ).scalar_one_or_none()
        error = w.status.last_error
        if w.event is EventType.SOURCE_RECOVERED:
            error = conn.execute(
                sa.select(sources.c.last_error).where(sources.c.id == sid)
            ).scalar_one_or_none()
        subject = {
            "id": sid,
            "url": public_url(w.status.url),
            "error": error,
            "since": rfc3339(since) if isinstance(since, datetime) else rfc3339(w.now),
        }
        queue_event(conn, w.event, w.now, subject)


def _wanted(hook: Webhook) -> list[sa.ColumnElement[bool]]:
    """The filter of the events a webhook wants."""
    where: list[sa.ColumnElement[bool]] = [
        webhook_events.c.type.in_(sorted(e.value for e in hook.events))
    ]
    if hook.feeds:
        where.append(sa.or_(webhook_events.c.feed == "", webhook_events.c.feed.in_(hook.feeds)))
    return where


class WebhooksMixin(Database):
    """Each webhook's delivery state, and the events it has to deliver."""

    def sync_webhooks(self, hooks: Sequence[Webhook]) -> None:
        """One state row per configured webhook: a new one starts after the events queued
        so far (it is not sent the past); rows of webhooks no longer configured go."""
        keys = {url_key(h.url): h.url for h in hooks}
        with self._write() as conn:
            stored = {r.key for r in conn.execute(sa.select(webhooks_table.c.key))}
            gone = stored - keys.keys()
            if gone:
                conn.execute(webhooks_table.delete().where(webhooks_table.c.key.in_(gone)))
            top = conn.execute(sa.select(sa.func.max(webhook_events.c.seq))).scalar_one_or_none()
            for key, url in keys.items():
                if key not in stored:
                    conn.execute(
                        webhooks_table.insert().values(key=key, url=url, cursor=int(top or 0))
                    )

    def webhook_state(self, hook: Webhook) -> WebhookState | None:
        with self._read() as conn:
            row = conn.execute(
                sa.select(webhooks_table).where(webhooks_table.c.key == url_key(hook.url))
            ).first()
        return None if row is None else _state(row)

    def webhook_events(self, hook: Webhook, after: int, limit: int) -> list[OutboxEvent]:
        """The next events ``hook`` wants after ``after``, in order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(webhook_events)
                .where(webhook_events.c.seq > after, *_wanted(hook))
                .order_by(webhook_events.c.seq)
                .limit(limit)
            )
            return [
                OutboxEvent(r.seq, r.id, EventType(r.type), r.feed, r.body.encode("utf-8"))
                for r in rows
            ]

    def webhook_delivered(self, hook: Webhook, event: OutboxEvent, now: datetime) -> None:
        """``event`` was delivered: the cursor moves past it, its failures are forgotten."""
        with self._write() as conn:
            conn.execute(
                webhooks_table.update()
                .where(
                    webhooks_table.c.key == url_key(hook.url), webhooks_table.c.cursor < event.seq
                )
                .values(
                    cursor=event.seq,
                    attempts=0,
                    next_attempt=None,
                    failing_since=None,
                    last_delivery=now,
                    delivered=webhooks_table.c.delivered + 1,
                )
            )

    def webhook_failed(
        self,
        hook: Webhook,
        event: OutboxEvent,
        error: str,
        now: datetime,
        retry_at: datetime | None,
    ) -> None:
        """A delivery of ``event`` failed: retried at ``retry_at``, or (None) given up, which
        is recorded and moves the cursor past it."""
        key = url_key(hook.url)
        with self._write() as conn:
            where = (webhooks_table.c.key == key) & (webhooks_table.c.cursor < event.seq)
            failed = {"last_error": error, "last_error_at": now}
            if retry_at is not None:
                conn.execute(
                    webhooks_table.update()
                    .where(where)
                    .values(
                        attempts=webhooks_table.c.attempts + 1,
                        next_attempt=retry_at,
                        failing_since=sa.func.coalesce(webhooks_table.c.failing_since, now),
                        **failed,
                    )
                )
                return
            done = conn.execute(
                webhooks_table.update()
                .where(where)
                .values(
                    cursor=event.seq,
                    attempts=0,
                    next_attempt=None,
                    failing_since=None,
                    given_up=webhooks_table.c.given_up + 1,
                    **failed,
                )
            )
            if done.rowcount:
                conn.execute(
                    webhook_given_up.insert().values(
                        key=key, event_id=event.id, type=event.type.value, at=now, error=error
                    )
                )

    def webhook_states(self, hooks: Sequence[Webhook]) -> list[WebhookState]:
        """The delivery state of each configured webhook, with its backlog (events waiting)."""
        states = []
        with self._read() as conn:
            rows: Mapping[str, Any] = {r.key: r for r in conn.execute(sa.select(webhooks_table))}
            for hook in hooks:
                row = rows.get(url_key(hook.url))
                cursor = int(row.cursor) if row is not None else 0
                backlog = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(webhook_events)
                    .where(webhook_events.c.seq > cursor, *_wanted(hook))
                ).scalar_one()
                state = _state(row) if row is not None else WebhookState(hook.url)
                states.append(_with(state, hook.url, int(backlog)))
        return states

    def given_up_events(self, hook: Webhook) -> list[tuple[str, str, datetime, str]]:
        """(event id, type, when, last error) of every event ``hook`` gave up on, in order."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(webhook_given_up)
                .where(webhook_given_up.c.key == url_key(hook.url))
                .order_by(webhook_given_up.c.id)
            )
            return [(r.event_id, r.type, r.at, r.error) for r in rows]

    def prune_webhook_events(self) -> int:
        """Drop the events every webhook has passed (all of them when there is none)."""
        with self._write() as conn:
            low = conn.execute(sa.select(sa.func.min(webhooks_table.c.cursor))).scalar_one_or_none()
            query = webhook_events.delete()
            if low is not None:
                query = query.where(webhook_events.c.seq <= low)
            return int(conn.execute(query).rowcount or 0)


def _state(row: Any) -> WebhookState:
    return WebhookState(
        url=row.url,
        cursor=int(row.cursor),
        attempts=int(row.attempts),
        next_attempt=row.next_attempt,
        failing_since=row.failing_since,
        last_delivery=row.last_delivery,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        delivered=int(row.delivered),
        given_up=int(row.given_up),
    )


def _with(state: WebhookState, url: str, backlog: int) -> WebhookState:
    return replace(state, url=url, backlog=backlog)
