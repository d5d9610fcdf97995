"""``/sources.opml``: the public sources as an OPML 2.0 reading list (docs/opml.md).

The same document as ``feeds export-opml --public``: the enabled sources that ``/sources``
shows (a source only partners feeds use is hidden here too, by the same rule,
:meth:`~feeds.types.Config.partners_only_sources`), without credentials in URLs. Built from
the current config on each request (a few microseconds per source), with a strong ETag of its
bytes, so that a reader polling it gets 304s until the sources change.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from feeds.ids import etag
from feeds.opml import opml_document
from feeds.times import EPOCH
from feeds.web import state
from feeds.web.responses import not_modified

bp = Blueprint("opml", __name__)

OPML_CONTENT_TYPE = "text/x-opml; charset=utf-8"


@bp.route("/sources.opml", methods=["GET", "HEAD"])
def sources_opml() -> Response:
    web = state(current_app)
    web.config_tick()
    body = opml_document(web.watcher.current, public=True)
    tag = etag(body)
    max_age = int(current_app.config["MAX_AGE"])
    headers = {
        "ETag": tag,
        "Cache-Control": f"public, max-age={max_age}",
        "Access-Control-Allow-Origin": "*",  # public data, as the feeds are
        "X-Content-Type-Options": "nosniff",
    }
    if not_modified(tag, EPOCH, request.headers.get("If-None-Match"), None):
        return Response(status=304, headers=headers)
    return Response(body, headers=headers, content_type=OPML_CONTENT_TYPE)
