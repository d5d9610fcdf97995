"""The contract's URLs, answered from stored documents."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from werkzeug.datastructures import Headers
from werkzeug.http import remove_entity_headers

from feeds.ids import etag
from feeds.times import EPOCH, parse_http_date, rfc822, rfc3339
from feeds.types import Document, Format, shown_state
from feeds.urls import public_url
from feeds.web import state

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("feeds", __name__)

FORMAT_LABELS = {Format.RSS: "RSS 2.0", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}
ARCHIVE_CACHE_CONTROL = "public, max-age=31536000, immutable"
XSL_CONTENT_TYPE = "text/xsl; charset=utf-8"


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
        since = parse_http_date(if_modified_since)
        return since is not None and last_modified <= since
    return False


def _wants_gzip() -> bool:
    raw = request.environ.get("HTTP_ACCEPT_ENCODING", "")
    # Only "gzip" or "*" can name gzip: skip parsing the header (per request) otherwise.
    if "*" not in raw and "gzip" not in raw.lower():
        return False
    return request.accept_encodings.quality("gzip") > 0


FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
BROWSER_XML_TYPE = "application/xml; charset=utf-8"


def _browser_navigation() -> bool:
    """A person opening the feed in a browser tab, rather than a feed reader polling it.

    Browsers name text/html explicitly in Accept on navigation; readers ask for feed types
    or */*. Chromium shows application/rss+xml and application/atom+xml as plain text and
    never applies their stylesheet, so a browser gets the same bytes as application/xml and
    the XSL turns them into a readable page.
    """
    if "text/html" not in request.environ.get("HTTP_ACCEPT", "").lower():
        return False  # the common case (feed readers), decided without parsing the header
    html = feed = 0.0
    for value, quality in request.accept_mimetypes:
        if value == "text/html":
            html = max(html, quality)
        elif value in FEED_TYPES:
            feed = max(feed, quality)
    return html > feed


@functools.lru_cache(maxsize=512)
def _stored_headers(
    etag: str,
    last_modified: datetime,
    cache_control: str,
    link: str,
    content_type: str,
    gz: bool,
) -> tuple[tuple[str, str], ...]:
    """The response headers of one stored document's representation, built and validated
    once (per document version, coding, type and links) rather than on every request."""
    headers = Headers(
        {
            # Each content coding is its own representation, so it gets its own strong
            # validator.
            "ETag": etag[:-1] + '-gz"' if gz else etag,
            "Last-Modified": rfc822(last_modified),
            "Cache-Control": cache_control,
            "Vary": "Accept, Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
            "Link": link,
            "Content-Type": content_type,
        }
    )
    if gz:
        headers["Content-Encoding"] = "gzip"
    return tuple(headers.to_wsgi_list())


class StoredResponse(Response):
    """A stored document's response: its headers were validated once, when first built
    (see _stored_headers), so they are not validated again for every request.

    Werkzeug copies and re-validates every header of every response (get_wsgi_headers);
    for a feed that is most of the cost of a 304. Only plain 200/304 responses take the
    short cut; they carry no Location/Content-Location to rewrite, and Content-Length is
    already set for a 200 (set_data), so the only change werkzeug would make is dropping
    the entity headers of a 304.
    """

    def __init__(self, body: bytes, status: int, items: tuple[tuple[str, str], ...]) -> None:
        headers = Headers()
        headers._list = list(items)  # validated by _stored_headers
        super().__init__(body, status=status, headers=headers)

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        status = self.status_code
        if status not in (200, 304) or "Location" in self.headers:
            return super().get_wsgi_headers(environ)
        headers = Headers()
        headers._list = list(self.headers._list)  # every value was validated when set
        if status == 304:
            remove_entity_headers(headers)
        return headers


def _document_response(document: Document, *, cache_control: str, link: str) -> Response:
    gz = _wants_gzip()
    inm = request.environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None and inm != document.etag:
        # A client may hold either coding's validator; both name the same content.
        inm = ", ".join(t.replace('-gz"', '"') for t in _etag_list(inm))
    ims = request.environ.get("HTTP_IF_MODIFIED_SINCE")
    if not_modified(document.etag, document.last_modified, inm, ims):
        # Content-Type and Content-Encoding are entity headers: dropped from a 304.
        items = _stored_headers(
            document.etag, document.last_modified, cache_control, link, document.content_type, gz
        )
        return StoredResponse(b"", 304, items)
    content_type = document.content_type
    if document.format is not Format.JSON and _browser_navigation():
        content_type = BROWSER_XML_TYPE
    items = _stored_headers(
        document.etag, document.last_modified, cache_control, link, content_type, gz
    )
    return StoredResponse(document.gzip if gz else document.body, 200, items)


def link_header(links: list[tuple[str, str]]) -> str:
    """One RFC 8288 Link header value: `<url>; rel="rel"`, comma-separated."""
    return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)


def _format(ext: str) -> Format:
    try:
        return Format(ext)
    except ValueError:
        abort(404)


@bp.route("/feeds/<name>.<ext>", methods=["GET", "HEAD"])
def feed(name: str, ext: str) -> Response:
    fmt = _format(ext)
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
    site = web.watcher.current.site
    links = [(site.feed_url(name, fmt.value), "self")]
    if site.hub:
        links.append((site.hub, "hub"))  # WebSub: subscribers discover the hub here
    max_age = int(current_app.config["MAX_AGE"])
    return _document_response(
        document,
        cache_control=f"public, max-age={max_age}, stale-while-revalidate={max_age * 2}",
        link=link_header(links),
    )


@bp.route("/feeds/<name>/archive/<int:number>.<ext>", methods=["GET", "HEAD"])
def archive(name: str, number: int, ext: str) -> Response:
    """An RFC 5005 archive page: written once and never changed, so cached for a year."""
    fmt = _format(ext)
    web = state(current_app)
    web.config_tick()
    if number < 1 or web.watcher.current.feed(name) is None:
        abort(404)
    document = web.cache.get(name, fmt, page=number)
    if document is None:
        abort(404)  # archive pages exist or not; "not yet" does not apply
    site = web.watcher.current.site
    return _document_response(
        document,
        cache_control=ARCHIVE_CACHE_CONTROL,
        link=link_header([(site.archive_url(name, number, fmt.value), "self")]),
    )


@bp.route("/static/feed.xsl", methods=["GET", "HEAD"])
def feed_stylesheet() -> Response:
    """The XSLT that feed documents reference, with a type every browser's XSLT accepts
    (Flask's guess depends on the host's mime.types)."""
    body, etag = _stylesheet()
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    if not_modified(etag, EPOCH, request.headers.get("If-None-Match"), None):
        return Response(status=304, headers=headers)
    return Response(body, headers=headers, content_type=XSL_CONTENT_TYPE)


@functools.cache
def _stylesheet() -> tuple[bytes, str]:
    body = (Path(__file__).parent / "static" / "feed.xsl").read_bytes()
    return body, etag(body)


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
        rows.append(
            {
                "id": source.id,
                "title": source.title,
                "url": public_url(source.url),
                "tags": list(source.tags),
                "state": shown_state(source, status).value,
                "last_fetch": _iso(status.last_fetch if status else None),
                "last_success": _iso(status.last_success if status else None),
                "last_http_status": status.last_http_status if status else None,
                "last_error": status.last_error if status else None,
                "failures": status.failures if status else 0,
                "next_fetch": _iso(status.next_fetch if status else None),
                "moved_to": public_url(status.moved_to) if status and status.moved_to else None,
                "entries": status.entry_count if status else 0,
            }
        )
    return rows


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value) if value else None


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
        web.store.ping()
    except Exception as e:  # any database failure means unhealthy
        body = {"status": "error", "error": str(e)}
        return Response(json.dumps(body), status=503, content_type="application/json")
    return Response(json.dumps({"status": "ok"}), content_type="application/json")
