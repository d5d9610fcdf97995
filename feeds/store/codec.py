"""Row <-> value codecs: the JSON kept in `data` columns, and the names of counter rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from feeds.types import (
    DURATION_BUCKETS,
    Enclosure,
    FetchResult,
    FetchStatus,
    Image,
    Item,
    ItemSource,
    SourceCounters,
    duration_bucket,
)


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


# Counter rows: one (source id, name, value) row per counter. The names are this module's
# business; everywhere else counters are SourceCounters.
_FETCHES = {status: f"fetches:{status.value}" for status in FetchStatus}
_BUCKETS = [f"duration:le:{bound}" for bound in (*map(str, DURATION_BUCKETS), "+Inf")]


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
