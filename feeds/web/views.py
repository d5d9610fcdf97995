"""The contract's URLs, answered from stored documents."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from feeds import policy
from feeds.times import rfc3339
from feeds.types import Config, FeedSpec, Format, Partner, View, shown_state
from feeds.urls import public_url
from feeds.web import auth, state, usage
from feeds.web.responses import document_response, prefers_html

bp = Blueprint("feeds", __name__)

FORMAT_LABELS = {Format.RSS: "RSS 2.0", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}
# Archive pages change only when an editor hides an item on them or deletes an article (a
# legal kill outranks immutability): cached for a day, so such a change reaches every cache.
ARCHIVE_CACHE_CONTROL = "public, max-age=86400"
PARTNER_ARCHIVE_CACHE_CONTROL = "private, max-age=86400"


def link_header(links: list[tuple[str, str]]) -> str:
    """One RFC 8288 Link header value: `<url>; rel="rel"`, comma-separated."""
    return ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)


def _format(ext: str) -> Format:
    try:
        return Format(ext)
    except ValueError:
        abort(404)


def _reader(name: str) -> tuple[Config, FeedSpec, Partner | None]:
    """The config, the feed asked for and the partner reading it (None: the public);
    404 for a feed not configured, 401/403 for a reader it is not for (see ``auth``)."""
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    spec = config.feed(name)
    if spec is None:
        abort(404)
    return config, spec, auth.reader(request, spec, config.partners)


def _partners_read(config: Config, spec: FeedSpec) -> bool:
    return any(p.reads(spec.name) for p in config.partners)


def _cache_control(partner: Partner | None) -> str:
    max_age = int(current_app.config["MAX_AGE"])
    scope = "private" if partner else "public"
    return f"{scope}, max-age={max_age}, stale-while-revalidate={max_age * 2}"


@bp.route("/feeds/<name>.<ext>", methods=["GET", "HEAD"])
def feed(name: str, ext: str) -> Response:
    fmt = _format(ext)
    config, spec, partner = _reader(name)
    if partner is None and spec.public and prefers_html():
        # A person opening the feed in a browser: its HTML view, at the same address (so the
        # address bar holds the feed's URL to copy). Readers and partners get the feed.
        view = state(current_app).cache.view(name)
        if view is not None:
            return _view_response(config, name, view)
    variant = policy.variant_for(spec, partner) if partner else ""
    usage.reading(name, fmt, variant, partner)  # counted once answered (feeds/web/usage.py)
    document = state(current_app).cache.get(name, fmt, variant=variant)
    if document is None:
        # Configured but not yet published: the clock process has not run yet.
        return Response(
            "not published yet\n", status=503, headers={"Retry-After": "30"}, mimetype="text/plain"
        )
    site = config.site
    links = [(site.feed_url(name, fmt.value), "self")]
    if site.hub and spec.public:
        links.append((site.hub, "hub"))  # WebSub: subscribers discover the hub here
    return document_response(
        document,
        cache_control=_cache_control(partner),
        link=link_header(links),
        keyed=partner is not None,
        vary_authorization=_partners_read(config, spec),
    )


@bp.route("/feeds/<name>", methods=["GET", "HEAD"])
def feed_view(name: str) -> Response:
    """A public feed's HTML view (rendered by the clock when it published the feed). A
    partners feed has none: 404, whoever asks (its readers read the feed itself)."""
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    spec = config.feed(name)
    if spec is None or not spec.public:
        abort(404)
    view = web.cache.view(name)
    if view is None:
        return Response(
            "not published yet\n", status=503, headers={"Retry-After": "30"}, mimetype="text/plain"
        )
    return _view_response(config, name, view)


def _view_response(config: Config, name: str, view: View) -> Response:
    """The view's 200 or 304, linking the feed's documents as alternates."""
    links = [(config.site.feed_url(name, fmt.value), "alternate") for fmt in Format]
    return document_response(view, cache_control=_cache_control(None), link=link_header(links))


@bp.route("/feeds/<name>/archive/<int:number>.<ext>", methods=["GET", "HEAD"])
def archive(name: str, number: int, ext: str) -> Response:
    """An RFC 5005 archive page: written once and never changed, so cached for a year.
    Every reader of a feed gets the same archive (the feed's own items)."""
    fmt = _format(ext)
    config, spec, partner = _reader(name)
    if number < 1:
        abort(404)
    document = state(current_app).cache.get(name, fmt, page=number)
    if document is None:
        abort(404)  # archive pages exist or not; "not yet" does not apply
    return document_response(
        document,
        cache_control=PARTNER_ARCHIVE_CACHE_CONTROL if partner else ARCHIVE_CACHE_CONTROL,
        link=link_header([(config.site.archive_url(name, number, fmt.value), "self")]),
        keyed=partner is not None,
        vary_authorization=_partners_read(config, spec),
    )


@bp.route("/", methods=["GET", "HEAD"])
def index() -> str:
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    etags = web.store.document_etags()
    feeds = [
        {
            "spec": spec,
            "view": f"/feeds/{spec.name}",
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
        if spec.public  # partners feeds are neither listed nor discoverable
    ]
    return render_template("index.html", site=config.site, feeds=feeds)


def _sources_data() -> list[dict[str, Any]]:
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    statuses = web.store.source_statuses()
    private = config.partners_only_sources()
    rows = []
    for source in config.sources:
        if source.id in private:
            continue
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
                "warning": status.warning if status else None,
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
