"""``/status`` and ``/status.json``: what an editor must know about the published feeds.

For now: every configured feed with, per format, the items its current document holds, when
it was last published, its size, and how many items it left out to stay within the feed's
byte budget (feeds.toml ``max_bytes``); and the config problems the running service has
seen. Read from the stored documents: the web process never renders.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, render_template

from feeds.times import rfc3339
from feeds.types import Document, Format
from feeds.web import state

bp = Blueprint("status", __name__)

FORMAT_LABELS = {Format.RSS: "RSS", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}


def item_count(document: Document) -> int:
    """How many items a published document holds. Items' text is escaped in the XML
    documents, so an item's closing tag is the only place its name appears as a tag."""
    if document.format is Format.RSS:
        return document.body.count(b"</item>")
    if document.format is Format.ATOM:
        return document.body.count(b"</entry>")
    items = json.loads(document.body).get("items")
    return len(items) if isinstance(items, list) else 0


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


def status_data() -> dict[str, Any]:
    """The status of every configured feed, and the config problems, as plain values."""
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    published: dict[str, dict[Format, Document]] = {}
    for document in web.store.current_documents():
        published.setdefault(document.feed, {})[document.format] = document
    feeds = []
    for spec in config.feeds:
        documents = published.get(spec.name, {})
        formats = {}
        for fmt in Format:
            found = documents.get(fmt)
            formats[fmt.value] = {
                "label": FORMAT_LABELS[fmt],
                "url": f"/feeds/{spec.name}.{fmt.value}",
                "published": _iso(found.last_modified) if found else None,
                "items": item_count(found) if found else None,
                "omitted": found.omitted if found else None,
                "bytes": len(found.body) if found else None,
            }
        last = max((d.last_modified for d in documents.values()), default=None)
        feeds.append(
            {
                "name": spec.name,
                "title": spec.title,
                "access": spec.access.value,
                "limit": spec.limit,
                "max_bytes": spec.max_bytes,
                "published": _iso(last),
                "omitted": sum(d.omitted for d in documents.values()),
                "formats": formats,
            }
        )
    return {"feeds": feeds, "problems": list(web.watcher.last_problems)}


@bp.route("/status", methods=["GET", "HEAD"])
def status_page() -> str:
    web = state(current_app)
    data = status_data()
    return render_template(
        "status.html", site=web.watcher.current.site, feeds=data["feeds"], problems=data["problems"]
    )


@bp.route("/status.json", methods=["GET", "HEAD"])
def status_json() -> Response:
    body = json.dumps(status_data(), ensure_ascii=False, indent=2)
    return Response(
        body + "\n",
        content_type="application/json; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )
