"""Every row <-> value codec of the store, in one place.

Values (feeds.types) become the column values of a row, and rows become values again: source
states, entries, articles, documents, the fetch log, feed items, and the JSON kept in `data`
columns; clocks' heartbeats and problems too. The names of counter rows are this module's
business too; everywhere else counters are SourceCounters. Rows are anything with the
table's columns as attributes (SQLAlchemy rows), so this module needs no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from feeds.types import (
    DURATION_LABELS,
    Article,
    ClockBeat,
    Document,
    Enclosure,
    Entry,
    FeedReads,
    FetchRecord,
    FetchResult,
    FetchStatus,
    Format,
    Image,
    Item,
    ItemSource,
    Override,
    OverrideAction,
    OverrideRecord,
    PartnerReads,
    Problem,
    RequestTally,
    SourceCounters,
    SourceState,
    SourceStatus,
    SubscriberReport,
    duration_bucket,
)
from feeds.urls import redact_urls

# --------------------------------------------------------------------------- JSON of `data`


def image_to_json(image: Image | None) -> dict[str, Any] | None:
    if image is None:
        return None
    return {
        "url": image.url,
        "caption": image.caption,
        "credit": image.credit,
        "width": image.width,
        "height": image.height,
        "type": image.type,
    }


def image_from_json(data: Any) -> Image | None:
    if not isinstance(data, dict):
        return None
    return Image(
        url=str(data["url"]),
        caption=str(data.get("caption") or ""),
        credit=str(data.get("credit") or ""),
        width=data.get("width"),
        height=data.get("height"),
        type=str(data.get("type") or ""),
    )


def enclosures_to_json(enclosures: tuple[Enclosure, ...]) -> list[dict[str, Any]]:
    return [{"url": e.url, "type": e.type, "length": e.length} for e in enclosures]


def enclosures_from_json(data: Any) -> tuple[Enclosure, ...]:
    if not isinstance(data, list):
        return ()
    return tuple(
        Enclosure(url=str(e["url"]), type=str(e.get("type") or ""), length=int(e.get("length", 0)))
        for e in data
    )


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("stored data is not a JSON object")
    return value


# --------------------------------------------------------------------------- feed items


def item_to_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "link": item.link,
        "published": item.published.isoformat(),
        "updated": item.updated.isoformat(),
        "authors": list(item.authors),
        "tags": list(item.tags),
        "summary": item.summary,
        "content": item.content,
        "image": image_to_json(item.image),
        "enclosures": enclosures_to_json(item.enclosures),
        "sources": [{"id": s.id, "title": s.title, "url": s.url} for s in item.sources],
        "language": item.language,
    }


def item_from_json(data: dict[str, Any]) -> Item:
    return Item(
        id=str(data["id"]),
        title=str(data["title"]),
        link=str(data["link"]),
        published=datetime.fromisoformat(data["published"]),
        updated=datetime.fromisoformat(data["updated"]),
        authors=tuple(data.get("authors", ())),
        tags=tuple(data.get("tags", ())),
        summary=str(data.get("summary", "")),
        content=str(data.get("content", "")),
        image=image_from_json(data.get("image")),
        enclosures=enclosures_from_json(data.get("enclosures")),
        sources=tuple(
            ItemSource(id=str(s["id"]), title=str(s["title"]), url=str(s["url"]))
            for s in data.get("sources", ())
        ),
        language=str(data.get("language", "")),
    )


# --------------------------------------------------------------------------- counters

# Counter rows: one (source id, name, value) row per counter. The names are this module's
# business; everywhere else counters are SourceCounters.
_FETCHES = {status: f"fetches:{status.value}" for status in FetchStatus}
_BUCKETS = [f"duration:le:{label}" for label in DURATION_LABELS]


def counter_deltas(result: FetchResult, new: int, updated: int) -> list[tuple[str, float]]:
    """The counter rows one fetch adds to: (name, amount)."""
    return [
        (_FETCHES[result.status], 1.0),
        ("entries:new", float(new)),
        ("entries:updated", float(updated)),
        ("bytes", float(result.size)),
        ("duration:sum", result.duration),
        ("duration:count", 1.0),
        (_BUCKETS[duration_bucket(result.duration)], 1.0),
    ]


def counters_from_rows(values: Mapping[str, float]) -> SourceCounters:
    """A source's counters from its rows ({name: value}); a missing row counts 0."""
    return SourceCounters(
        fetches_ok=values.get(_FETCHES[FetchStatus.OK], 0.0),
        fetches_not_modified=values.get(_FETCHES[FetchStatus.NOT_MODIFIED], 0.0),
        fetches_error=values.get(_FETCHES[FetchStatus.ERROR], 0.0),
        new_entries=values.get("entries:new", 0.0),
        updated_entries=values.get("entries:updated", 0.0),
        bytes=values.get("bytes", 0.0),
        duration_sum=values.get("duration:sum", 0.0),
        duration_count=values.get("duration:count", 0.0),
        duration_buckets=tuple(values.get(name, 0.0) for name in _BUCKETS),
    )


# --------------------------------------------------------------------------- sources


def status_values(status: SourceStatus) -> dict[str, Any]:
    """The sources-table columns a refresh writes."""
    return {
        "url": status.url,
        "state": status.state.value,
        "etag": status.etag,
        "last_modified": status.last_modified,
        "body_hash": status.body_hash,
        "last_fetch": status.last_fetch,
        "last_success": status.last_success,
        "last_http_status": status.last_http_status,
        "last_error": status.last_error and redact_urls(status.last_error),  # shown to anyone
        "failures": status.failures,
        "next_fetch": status.next_fetch,
        "moved_to": status.moved_to,
        "suspect_since": status.suspect_since,
        "feed_ttl": int(status.feed_ttl.total_seconds()) if status.feed_ttl else None,
        "warning": status.warning and redact_urls(status.warning),
        "fetch_hash": status.fetch_hash or None,
    }


STATUS_COLUMNS = tuple(status_values(SourceStatus(id="", url="")))


def status_from_row(r: Any) -> SourceStatus:
    """A source's state from its row (the entry count, a scan, is added where shown)."""
    return SourceStatus(
        id=r.id,
        url=r.url,
        state=SourceState(r.state),
        etag=r.etag,
        last_modified=r.last_modified,
        body_hash=r.body_hash,
        last_fetch=r.last_fetch,
        last_success=r.last_success,
        last_http_status=r.last_http_status,
        last_error=r.last_error,
        failures=r.failures,
        next_fetch=r.next_fetch,
        moved_to=r.moved_to,
        config_hash=r.config_hash,
        suspect_since=r.suspect_since,
        feed_ttl=timedelta(seconds=r.feed_ttl) if r.feed_ttl else None,
        warning=r.warning,
        fetch_hash=r.fetch_hash or "",
    )


def fetch_values(
    source_id: str, result: FetchResult, now: datetime, new: int, updated: int
) -> dict[str, Any]:
    """A fetch-log row."""
    return {
        "source_id": source_id,
        "at": now,
        "status": result.status.value,
        "http_status": result.http_status,
        "duration": round(result.duration * 1000),
        "size": result.size,
        "new": new,
        "updated": updated,
        "error": result.error,
    }


def fetch_record_from_row(r: Any) -> FetchRecord:
    return FetchRecord(
        source_id=r.source_id,
        at=r.at,
        status=FetchStatus(r.status),
        http_status=r.http_status,
        duration_ms=r.duration,
        size=r.size,
        new=r.new,
        updated=r.updated,
        error=r.error,
    )


# --------------------------------------------------------------------------- entries


def entry_values(entry: Entry) -> dict[str, Any]:
    """An entries-table row, without the first_seen and last_seen the store stamps."""
    return {
        "source_id": entry.source_id,
        "id": entry.id,
        "title": entry.title,
        "link": entry.link,
        "published": entry.published,
        "updated": entry.updated,
        "content_hash": entry.content_hash,
        "link_shared": entry.link_shared,
        "data": dumps(
            {
                "authors": list(entry.authors),
                "tags": list(entry.tags),
                "summary": entry.summary,
                "content": entry.content,
                "image": image_to_json(entry.image),
                "enclosures": enclosures_to_json(entry.enclosures),
            }
        ),
    }


def entry_from_row(r: Any) -> Entry:
    data = loads(r.data)
    return Entry(
        source_id=r.source_id,
        id=r.id,
        title=r.title,
        link=r.link,
        published=r.published,
        updated=r.updated,
        authors=tuple(data.get("authors", ())),
        tags=tuple(data.get("tags", ())),
        summary=data.get("summary", ""),
        content=data.get("content", ""),
        image=image_from_json(data.get("image")),
        enclosures=enclosures_from_json(data.get("enclosures")),
        content_hash=r.content_hash,
        link_shared=bool(r.link_shared),
    )


# --------------------------------------------------------------------------- articles


def article_values(article: Article) -> dict[str, Any]:
    """An articles-table row: a few columns to sort and compare by, and the whole article."""
    return {
        "slug": article.slug,
        "path": article.path,
        "published": article.published,
        "updated": article.updated,
        "content_hash": article.content_hash,
        "data": dumps(
            {
                "slug": article.slug,
                "title": article.title,
                "link": article.link,
                "published": article.published.isoformat(),
                "updated": article.updated.isoformat(),
                "authors": list(article.authors),
                "summary": article.summary,
                "content": article.content,
                "tags": list(article.tags),
                "image": image_to_json(article.image),
                "path": article.path,
                "content_hash": article.content_hash,
                "language": article.language,
            }
        ),
    }


def article_from_row(r: Any) -> Article:
    """An article from its row (only the `data` column is read)."""
    data = loads(r.data)
    return Article(
        slug=data["slug"],
        title=data["title"],
        link=data["link"],
        published=datetime.fromisoformat(data["published"]),
        updated=datetime.fromisoformat(data["updated"]),
        authors=tuple(data.get("authors", ())),
        summary=data.get("summary", ""),
        content=data.get("content", ""),
        tags=tuple(data.get("tags", ())),
        image=image_from_json(data.get("image")),
        path=data.get("path", ""),
        content_hash=data.get("content_hash", ""),
        language=data.get("language", ""),
    )


# --------------------------------------------------------------------------- documents


def document_from_row(r: Any) -> Document:
    return Document(
        feed=r.feed,
        format=Format(r.format),
        body=bytes(r.body),
        gzip=bytes(r.gzip),
        etag=r.etag,
        last_modified=r.last_modified,
        content_type=r.content_type,
        page=r.page,
        variant=r.variant,
        omitted=r.omitted,
    )


# --------------------------------------------------------------------------- clocks, problems


def clock_from_row(r: Any) -> ClockBeat:
    return ClockBeat(
        id=r.id,
        host=r.host,
        pid=int(r.pid),
        started=r.started,
        heartbeat=r.heartbeat,
        active=bool(r.active),
    )


def problem_values(scope: str, problem: Problem, since: datetime) -> dict[str, Any]:
    """A problem's row; its file and key cut to their columns' sizes."""
    return {
        "scope": scope,
        "file": problem.file[:500],
        "key": problem.key[:200],
        "message": problem.message,
        "since": since,
    }


def problem_from_row(r: Any) -> Problem:
    return Problem(file=r.file, key=r.key, message=r.message, since=r.since)


# --------------------------------------------------------------------------- readership


def tally_values(tally: RequestTally) -> dict[str, Any]:
    """The row of an hour's tally (hourly table; the totals table takes it without hour)."""
    return {
        "hour": tally.hour,
        "feed": tally.feed,
        "variant": tally.variant,
        "partner": tally.partner,
        "status": tally.status,
        "requests": tally.requests,
        "bytes": tally.bytes,
        "last_seen": tally.last_seen,
    }


def reads_from_rows(rows: Any) -> tuple[tuple[FeedReads, ...], tuple[PartnerReads, ...]]:
    """Per feed and variant, and per partner, from rows of (feed, variant, partner, status,
    requests, bytes, last_seen) summed over whatever else told them apart."""
    statuses: dict[tuple[str, str], dict[int, int]] = {}
    sent: dict[tuple[str, str], int] = {}
    partners: dict[str, tuple[int, datetime, set[str]]] = {}
    for r in rows:
        key = (r.feed, r.variant)
        by_status = statuses.setdefault(key, {})
        by_status[r.status] = by_status.get(r.status, 0) + int(r.requests)
        sent[key] = sent.get(key, 0) + int(r.bytes)
        if r.partner:
            requests, last, feeds = partners.get(r.partner, (0, r.last_seen, set()))
            feeds.add(r.feed)
            partners[r.partner] = (requests + int(r.requests), max(last, r.last_seen), feeds)
    return (
        tuple(
            FeedReads(feed, variant, tuple(sorted(counts.items())), sent[(feed, variant)])
            for (feed, variant), counts in sorted(statuses.items())
        ),
        tuple(
            PartnerReads(partner, requests, last, tuple(sorted(feeds)))
            for partner, (requests, last, feeds) in sorted(partners.items())
        ),
    )


def subscribers_from_row(r: Any) -> SubscriberReport:
    return SubscriberReport(
        feed=r.feed,
        format=r.format,
        aggregator=r.aggregator,
        feed_id=r.feed_id,
        subscribers=int(r.subscribers),
        reported=r.reported,
    )


# --------------------------------------------------------------------------- overrides


def override_from_row(r: Any) -> Override:
    """An override in force from its ``overrides`` row."""
    return Override(
        item=r.item,
        action=OverrideAction(r.action),
        by=r.by,
        reason=r.reason,
        at=r.at,
        feed=r.feed,
        value=r.value,
        until=r.until,
    )


def override_record_from_row(r: Any) -> OverrideRecord:
    """One line of the audit trail from its ``override_log`` row."""
    return OverrideRecord(
        id=r.id,
        at=r.at,
        action=r.action,
        item=r.item,
        by=r.by,
        reason=r.reason,
        feed=r.feed,
        value=r.value,
        until=r.until,
    )
