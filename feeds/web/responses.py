"""Responses made of stored documents: conditional requests, content coding and type
negotiation, and headers built once per document version.

Standards: RFC 9110 (If-None-Match wins over If-Modified-Since, weak comparison, a 304 without
entity headers), one strong validator per content coding, ``Vary: Accept, Accept-Encoding``
(and ``Authorization`` where partners read a variant of the same URL). A partner's response
is private: no shared cache keeps it, and no other site's script may read it (no CORS).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Response, request
from werkzeug.datastructures import Headers
from werkzeug.http import remove_entity_headers

from feeds.times import parse_http_date, rfc822
from feeds.types import Document, Format

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def _etag_list(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(
    etag: str,
    last_modified: datetime,
    if_none_match: str | None,
    if_modified_since: str | None,
    now: datetime | None = None,
) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match (weak comparison) wins over If-Modified-Since.

    An If-Modified-Since later than ``now`` (default: the current time) is not a date the
    client can have seen (RFC 9110 section 13.1.3): it is ignored, so a year-9999 date cannot
    pin a client to whatever it has."""
    if if_none_match is not None:
        tags = _etag_list(if_none_match)
        return "*" in tags or etag.removeprefix("W/") in tags
    if if_modified_since:
        since = parse_http_date(if_modified_since)
        if since is None or since > (now or datetime.now(UTC)):
            return False
        return last_modified <= since
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
    status: int,
    keyed: bool,
    vary_authorization: bool,
) -> tuple[tuple[str, str], ...]:
    """The response headers of one stored document's representation, built and checked once
    (per document version, coding, type, links, status and reader) rather than on every
    request. A 304 carries no entity headers (Content-Type, Content-Encoding,
    Last-Modified...)."""
    headers = Headers(
        {
            # Each content coding is its own representation, so it gets its own strong
            # validator.
            "ETag": etag[:-1] + '-gz"' if gz else etag,
            "Last-Modified": rfc822(last_modified),
            "Cache-Control": cache_control,
            "Vary": "Accept, Accept-Encoding" + (", Authorization" if vary_authorization else ""),
        }
    )
    if not keyed:
        headers["Access-Control-Allow-Origin"] = "*"
    headers.update(
        {"X-Content-Type-Options": "nosniff", "Link": link, "Content-Type": content_type}
    )
    if gz:
        headers["Content-Encoding"] = "gzip"
    if status == 304:
        remove_entity_headers(headers)
    return tuple(headers.to_wsgi_list())


class StoredResponse(Response):
    """A stored document's 200 or 304, with the headers ``_stored_headers`` built.

    It answers WSGI itself (``__call__``, the interface through which every werkzeug response
    is served): its headers as they are, with the entity headers dropped from a 304, and the
    body. Werkzeug's general path (``get_wsgi_headers``, which copies and checks every header
    again and looks for URLs to fix, then ``get_app_iter``) has nothing to do for these
    responses and is most of the cost of a 304. Headers changed after the view (by an
    ``after_request`` hook, say) are sent like any others.
    """

    def __init__(self, body: bytes, status: int, headers: tuple[tuple[str, str], ...]) -> None:
        super().__init__(body if status != 304 else None, status=status, headers=headers)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = self.headers.to_wsgi_list()
        if self.status_code == 304:
            remove_entity_headers(headers)
        start_response(self.status, headers)
        if self.status_code == 304 or environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [self.get_data()]


def document_response(
    document: Document,
    *,
    cache_control: str,
    link: str,
    keyed: bool = False,
    vary_authorization: bool = False,
) -> Response:
    """A stored document's 200 or 304. ``keyed``: a partner's response (private, no CORS,
    varying on Authorization); ``vary_authorization``: a public response of a URL partners
    read another variant of."""
    gz = _wants_gzip()
    vary_authorization = vary_authorization or keyed
    inm = request.environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None and inm != document.etag:
        # A client may hold either coding's validator; both name the same content.
        inm = ", ".join(t.replace('-gz"', '"') for t in _etag_list(inm))
    ims = request.environ.get("HTTP_IF_MODIFIED_SINCE")
    if not_modified(document.etag, document.last_modified, inm, ims):
        items = _stored_headers(
            document.etag,
            document.last_modified,
            cache_control,
            link,
            document.content_type,
            gz,
            304,
            keyed,
            vary_authorization,
        )
        return StoredResponse(b"", 304, items)
    content_type = document.content_type
    if document.format is not Format.JSON and _browser_navigation():
        content_type = BROWSER_XML_TYPE
    items = _stored_headers(
        document.etag,
        document.last_modified,
        cache_control,
        link,
        content_type,
        gz,
        200,
        keyed,
        vary_authorization,
    )
    return StoredResponse(document.gzip if gz else document.body, 200, items)
