"""The contract's URLs, answered from stored documents."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from feeds.types import Document, Format, SourceState
from feeds.web import state

bp = Blueprint("feeds", __name__)

FORMAT_LABELS = {Format.RSS: "RSS 2.0", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}


def _etag_list(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(
    etag: str, last_modified: datetime, if_none_match: str | None, if_modified_since: str | None
) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since."""
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        return "*" in tags or etag.removeprefix("W/") in tags
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified <= since
    return False


def _wants_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def _document_response(document: Document, self_url: str) -> Response:
    gz = _wants_gzip()
    # Each content coding is its own representation, so it gets its own strong validator.
    etag = document.etag[:-1] + '-gz"' if gz else document.etag
    max_age = int(current_app.config["MAX_AGE"])
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        "Cache-Control": f"public, max-age={max_age}, stale-while-revalidate={max_age * 2}",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
        "Link": f'<{self_url}>; rel="self"',
    }
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        # A client may hold either coding's validator; both name the same content.
        inm = ", ".join(t.replace('-gz"', '"') for t in _etag_list(inm))
    if not_modified(
        document.etag, document.last_modified, inm, request.headers.get("If-Modified-Since")
    ):
        return Response(status=304, headers=headers)
    body = document.gzip if gz else document.body
    response = Response(body, status=200, headers=headers, content_type=document.content_type)
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    return response


@bp.route("/feeds/<name>.<ext>", methods=["GET", "HEAD"])
def feed(name: str, ext: str) -> Response:
    try:
        fmt = Format(ext)
    except ValueError:
        abort(404)
    web = state(current_app)
    web.config_tick()
    if web.watcher.current.feed(name) is None:
        abort(404)
    document = web.cache.get(name, fmt)
    if document is None:
        # Configured but not yet published: the clock process has not run yet.
        return Response(
            "not published yet\n", status=503, headers={"Retry-After": "30"}, mimetype="text/plain"
        )
    return _document_response(document, web.watcher.current.site.feed_url(name, fmt.value))


@bp.route("/", methods=["GET", "HEAD"])
def index() -> str:
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    etags = web.store.document_etags()
    feeds = [
        {
            "spec": spec,
            "links": [
                {
                    "format": fmt,
                    "label": FORMAT_LABELS[fmt],
                    "href": f"/feeds/{spec.name}.{fmt.value}",
                    "type": fmt.content_type.split(";")[0],
                    "published": (spec.name, fmt) in etags,
                }
                for fmt in Format
            ],
        }
        for spec in config.feeds
    ]
    return render_template("index.html", site=config.site, feeds=feeds)


def _sources_data() -> list[dict[str, Any]]:
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    statuses = web.store.source_statuses()
    rows = []
    for source in config.sources:
        status = statuses.get(source.id)
        state_value = SourceState.DISABLED if not source.enabled else None
        rows.append(
            {
                "id": source.id,
                "title": source.title,
                "url": source.url,
                "tags": list(source.tags),
                "state": (state_value or (status.state if status else SourceState.NEW)).value,
                "last_fetch": _iso(status.last_fetch if status else None),
                "last_success": _iso(status.last_success if status else None),
                "last_http_status": status.last_http_status if status else None,
                "last_error": status.last_error if status else None,
                "failures": status.failures if status else 0,
                "next_fetch": _iso(status.next_fetch if status else None),
                "moved_to": status.moved_to if status else None,
                "entries": status.entry_count if status else 0,
            }
        )
    return rows


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@bp.route("/sources", methods=["GET", "HEAD"])
def sources_page() -> str:
    web = state(current_app)
    return render_template(
        "sources.html",
        site=web.watcher.current.site,
        sources=_sources_data(),
        problems=web.watcher.last_problems,
    )


@bp.route("/sources.json", methods=["GET", "HEAD"])
def sources_json() -> Response:
    body = json.dumps({"sources": _sources_data()}, ensure_ascii=False, indent=2)
    return Response(body + "\n", content_type="application/json; charset=utf-8")


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz() -> Response:
    web = state(current_app)
    try:
        web.store.document_etags()
    except Exception as e:  # any database failure means unhealthy
        body = {"status": "error", "error": str(e)}
        return Response(json.dumps(body), status=503, content_type="application/json")
    return Response(json.dumps({"status": "ok"}), content_type="application/json")
