"""The API the outlet's CMS calls: articles (``/api/articles``) and the editors' overrides
(``/api/overrides``), JSON in and out, described at ``/api/openapi.json`` (``api_openapi``).

Each call presents a ``[[client]]``'s key (``Authorization: Bearer KEY``) holding the scope
of the URL: 401 without a key or with one no enabled client holds (``WWW-Authenticate``), 403
without the scope. Every refusal is JSON: ``{"errors": [{"field": …, "message": …}]}``, one
per bad field; bad input is a 4xx naming the field, never a 500.

The web process stores what it is sent and never renders a feed: the clock sees the write
(``Pipeline.follow_api_articles``, every second) and publishes. The overrides go through the
same store functions as ``feeds hide`` and the others (their routes are in ``api_overrides``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from feeds.articles import FieldError, article_from_fields
from feeds.config import is_slug
from feeds.store import Store
from feeds.store.articles import ApiArticle, ApiWrite
from feeds.text import quoted
from feeds.times import utcnow
from feeds.types import Client, Config, Scope
from feeds.web import auth, state

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_BYTES = 1_000_000  # the default of the app setting API_MAX_BYTES: a request body's limit
PAGE_SIZE = 50  # articles per page of GET /api/articles, by default
MAX_PAGE_SIZE = 200
REALM = "feeds api"
JSON_TYPES = ("application/json",)  # and any application/*+json


class ApiError(HTTPException):
    """A refusal, answered as JSON with one error per bad field."""

    def __init__(
        self, status: int, errors: list[FieldError], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__()
        self.code = status
        self.errors = errors
        self.extra = dict(headers or {})

    def get_response(self, *args: Any, **kwargs: Any) -> Response:
        return json_response(
            {"errors": [{"field": e.field, "message": e.message} for e in self.errors]},
            self.code or 500,
            {"Cache-Control": "no-store", **self.extra},
        )


def refuse(status: int, field: str, message: str, **headers: str) -> NoReturn:
    raise ApiError(status, [FieldError(field, message)], headers)


def json_response(
    value: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(value, ensure_ascii=False, indent=1) + "\n"
    response = Response(body, status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response


@bp.app_errorhandler(HTTPException)
def _http_error(e: HTTPException) -> BaseResponse:
    """Under /api/, Flask's own refusals (404, 405, 413, …) are JSON too."""
    response = e.get_response()
    if isinstance(e, ApiError) or not request.path.startswith(bp.url_prefix or "/api"):
        return response
    message = e.description or e.name
    return json_response(
        {"errors": [{"field": "", "message": message}]},
        e.code or 500,
        {k: v for k, v in response.headers.items() if k.lower() == "allow"},
    )


# --------------------------------------------------------------------------- who calls


def caller(scope: Scope) -> tuple[Config, Client]:
    """The config and the client calling, which must hold ``scope`` (else 401 or 403)."""
    web = state(current_app)
    web.config_tick()
    config = web.watcher.current
    key = auth.bearer_key(request)
    if key is None:
        refuse(
            401,
            "Authorization",
            "present an API client's key: Authorization: Bearer KEY",
            **{"WWW-Authenticate": f'Bearer realm="{REALM}"'},
        )
    client = auth.holder_of(config.clients, key)
    if client is None:
        refuse(
            401,
            "Authorization",
            "this key is unknown, revoked or disabled",
            **{"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
        )
    if scope not in client.scopes:
        refuse(403, "Authorization", f"client {client.id!r} lacks the scope {scope.value!r}")
    return config, client


def json_body() -> dict[str, Any]:
    """The request's JSON object: 413 over API_MAX_BYTES, 415 when it is not sent as JSON,
    400 when it is not JSON, 422 when it is not an object."""
    limit = int(current_app.config["API_MAX_BYTES"])
    if request.content_length is not None and request.content_length > limit:
        refuse(413, "", f"the body is over the limit of {limit} bytes")
    mimetype = request.mimetype
    if mimetype not in JSON_TYPES and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        refuse(
            415,
            "Content-Type",
            f"send JSON (Content-Type: application/json), not {quoted(mimetype)}",
        )
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        refuse(413, "", f"the body is over the limit of {limit} bytes")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as e:
        refuse(400, "", f"the body is not UTF-8 (byte {e.start})")
    except RecursionError:
        refuse(400, "", "the body is not JSON we can read: nested too deeply")
    except ValueError as e:
        refuse(400, "", f"the body is not JSON: {str(e)[:200]}")
    if not isinstance(value, dict):
        refuse(422, "", "the body must be a JSON object")
    return value


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def api_store() -> Store:
    return state(current_app).store


# --------------------------------------------------------------------------- articles


@bp.route("/articles/<slug>", methods=["PUT"])
def put_article(slug: str) -> Response:
    config, client = caller(Scope.ARTICLES)
    fields = {k: v for k, v in json_body().items() if v is not None}  # null: not given
    if isinstance(fields.get("image"), dict):
        fields["image"] = {k: v for k, v in fields["image"].items() if v is not None}
    article, errors = article_from_fields(fields, slug, config.site)
    if article is None:
        raise ApiError(422, errors)
    done = api_store().put_api_article(article, fields, client.id, utcnow())
    if done is ApiWrite.CONFLICT:
        refuse(409, "slug", f"an article file holds the slug {slug!r}")
    stored = ApiArticle(article, fields)
    headers = {"X-Feeds-Write": done.value}
    if done is ApiWrite.CREATED:
        headers["Location"] = f"{bp.url_prefix}/articles/{slug}"
    return json_response(
        articlejson_response(stored), 201 if done is ApiWrite.CREATED else 200, headers
    )


@bp.route("/articles/<slug>", methods=["GET"])
def get_article(slug: str) -> Response:
    caller(Scope.ARTICLES)
    found = api_store().api_article(slug) if is_slug(slug) else None
    if found is None:
        refuse(404, "slug", f"no article {quoted(slug)}")
    origin, stored = found
    if stored is None:
        refuse(404, "slug", f"{quoted(slug)} is an article file's, not the API's ({origin})")
    return json_response(articlejson_response(stored))


@bp.route("/articles/<slug>", methods=["DELETE"])
def delete_article(slug: str) -> Response:
    _, client = caller(Scope.ARTICLES)
    done = api_store().delete_api_article(slug, client.id, utcnow()) if is_slug(slug) else None
    if done is None or done is ApiWrite.MISSING:
        refuse(404, "slug", f"no article {quoted(slug)}")
    if done is ApiWrite.CONFLICT:
        refuse(409, "slug", f"an article file holds the slug {slug!r}: delete the file")
    return Response(status=204)


@bp.route("/articles", methods=["GET"])
def list_articles() -> Response:
    caller(Scope.ARTICLES)
    limit = _int_arg("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    cursor = request.args.get("cursor", "")
    page = api_store().api_articles(after=cursor, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    following = page[-1].article.slug if more else None
    headers = {}
    if following is not None:
        query = urlencode({"limit": limit, "cursor": following})
        headers["Link"] = f'<{bp.url_prefix}/articles?{query}>; rel="next"'
    return json_response(
        {"articles": [summaryjson_response(a) for a in page], "next_cursor": following},
        200,
        headers,
    )


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        refuse(422, name, f"must be a whole number from {low} to {high}, not {raw[:50]!r}")
    return int(raw)


def articlejson_response(stored: ApiArticle) -> dict[str, Any]:
    """An API article as the API gives it back: the fields as sent, its slug, and the link
    it is published under (also its item id, for /api/overrides)."""
    return {**stored.fields, "slug": stored.article.slug, "link": stored.article.link}


def summaryjson_response(stored: ApiArticle) -> dict[str, Any]:
    a = stored.article
    return {
        "slug": a.slug,
        "title": a.title,
        "date": a.published.isoformat(),
        "updated": a.updated.isoformat(),
        "link": a.link,
    }


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    from feeds.web.api_openapi import OPENAPI

    return json_response(OPENAPI, 200, {"Cache-Control": "public, max-age=300"})
