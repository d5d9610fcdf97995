"""The OpenAPI 3.1 description of the API, served at ``/api/openapi.json``.

Written by hand, next to the routes it describes (``api``, ``api_overrides``); a test keeps
the two in step (every route described, every description routed, the examples valid against
their schemas and accepted by the API) and runs schemathesis against the served app.
"""

from __future__ import annotations

from typing import Any

from feeds.web.api import MAX_PAGE_SIZE, PAGE_SIZE

_NULL = {"type": "null"}


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or null (a null field counts as not given)."""
    return {"anyOf": [schema, _NULL]}


_TEXT = {"type": "string"}
_TIME = {
    "type": "string",
    "description": "ISO 8601 date and time with a UTC offset, e.g. 2026-11-19T09:00:00+02:00",
}
_ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {
                        "type": "string",
                        "description": 'the bad field, e.g. "image.url"; "" for the whole request',
                    },
                    "message": {"type": "string"},
                },
            },
        }
    },
}
_IMAGE = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "description": "absolute, or relative to the article's link"},
        "caption": _optional(_TEXT),
        "credit": _optional(_TEXT),
        "width": _optional({"type": "integer", "minimum": 1}),
        "height": _optional({"type": "integer", "minimum": 1}),
    },
}
_ARTICLE_FIELDS: dict[str, Any] = {
    "title": {"type": "string", "minLength": 1},
    "date": {**_TIME, "description": _TIME["description"] + "; a future date holds it back"},
    "updated": _optional(_TIME),
    "author": _optional(
        {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    ),
    "summary": _optional(_TEXT),
    "link": _optional({"type": "string", "description": "absolute http(s) URL"}),
    "tags": _optional({"type": "array", "items": {"type": "string"}}),
    "language": _optional({"type": "string", "description": "a language tag: en, ar, pt-BR"}),
    "image": _optional(_IMAGE),
    "body": _optional({"type": "string", "description": "Markdown (raw HTML is not rendered)"}),
}
_ARTICLE_IN = {
    "type": "object",
    "required": ["title", "date"],
    "additionalProperties": False,
    "properties": _ARTICLE_FIELDS,
}
_ARTICLE_OUT = {
    "type": "object",
    "required": ["slug", "link", "title", "date"],
    "properties": {
        **_ARTICLE_FIELDS,
        "slug": {"type": "string"},
        "link": {"type": "string", "description": "where it is published; also its item id"},
    },
}
_SUMMARY = {
    "type": "object",
    "required": ["slug", "title", "date", "updated", "link"],
    "properties": {k: {"type": "string"} for k in ("slug", "title", "date", "updated", "link")},
}
_OVERRIDE_FIELDS: dict[str, Any] = {
    "item": _TEXT,
    "action": {"enum": ["hide", "pin", "retitle"]},
    "feed": _TEXT,
    "title": _TEXT,
    "until": _optional(_TEXT),
    "by": _TEXT,
    "reason": _TEXT,
    "at": _TEXT,
}
_OVERRIDE = {"type": "object", "required": list(_OVERRIDE_FIELDS), "properties": _OVERRIDE_FIELDS}
_RECORD = {
    "type": "object",
    "required": ["id", *_OVERRIDE_FIELDS],
    "properties": {**_OVERRIDE_FIELDS, "id": {"type": "integer"}, "action": _TEXT},
}
_COMMAND = {
    "type": "object",
    "required": ["action", "item"],
    "additionalProperties": False,
    "properties": {
        "action": {"enum": ["hide", "unhide", "pin", "unpin", "retitle", "unretitle"]},
        "item": {"type": "string", "minLength": 1, "description": "published id or link"},
        "feed": _optional({"type": "string", "description": "pin and unpin only"}),
        "until": _optional({"type": "string", "description": 'pin only: a time, or "6h"'}),
        "title": _optional({"type": "string", "description": "retitle only"}),
        "reason": _optional(_TEXT),
        "by": _optional({"type": "string", "description": "the editor (the client is added)"}),
    },
}

ARTICLE_EXAMPLE = {
    "title": "Beirut's grain silos: a memorial or a ruin?",
    "date": "2026-11-19T09:00:00+02:00",
    "author": "Rania Abou-Zeid",
    "tags": ["lebanon", "beirut"],
    "image": {
        "url": "https://levantledger.news/media/silos.jpg",
        "caption": "The damaged silos at dawn.",
        "credit": "Photo: Maya Haddad/Levant Ledger",
        "width": 1600,
        "height": 1067,
    },
    "body": "The silos still stand, **four years on**.",
}
COMMAND_EXAMPLE = {
    "action": "hide",
    "item": "https://wire.example/e24",
    "reason": "legal",
    "by": "night desk",
}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"content": {"application/json": content}}


def _answers(*codes: int, **ok: dict[str, Any]) -> dict[str, Any]:
    """The responses of an operation: ``ok`` by status ("200"=…), and refusals by code."""
    meaning = {
        400: "the body is not JSON (or not UTF-8)",
        401: "no key, or one no enabled client holds (WWW-Authenticate says so)",
        403: "the client lacks the scope",
        404: "no such article (or override in force)",
        409: "an article file holds this slug",
        413: "the body is over the size limit (1 MB by default)",
        415: "the body is not sent as JSON",
        422: "one error per bad field",
    }
    answers = {code.lstrip("_"): value for code, value in ok.items()}
    for code in (401, 403, 404, *codes):
        answers[str(code)] = {"description": meaning[code], **_json(_ERRORS)}
    return answers


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, **(_json(schema) if schema else {})}


_SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "up to 100 lower-case letters, digits, '.', '_', '-'",
}
_BODY_REFUSALS = (400, 413, 415, 422)

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "feeds API",
        "version": "1",
        "description": "Articles pushed by the outlet's CMS, and the editors' overrides. "
        "See docs/api.md.",
    },
    "components": {
        "securitySchemes": {"client": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Errors": _ERRORS, "ArticleIn": _ARTICLE_IN, "Command": _COMMAND},
    },
    "security": [{"client": []}],
    "paths": {
        "/api/articles": {
            "get": {
                "summary": "The API's articles, by slug, a page at a time",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                        "description": f"articles per page (default {PAGE_SIZE})",
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "next_cursor of the previous page",
                    },
                ],
                "responses": _answers(
                    422,
                    _200=_ok(
                        "a page; next_cursor is null on the last (also a Link rel=next header)",
                        {
                            "type": "object",
                            "required": ["articles", "next_cursor"],
                            "properties": {
                                "articles": {"type": "array", "items": _SUMMARY},
                                "next_cursor": _optional(_TEXT),
                            },
                        },
                    ),
                ),
            }
        },
        "/api/articles/{slug}": {
            "parameters": [_SLUG],
            "put": {
                "summary": "Create or replace an article, whole",
                "requestBody": {"required": True, **_json(_ARTICLE_IN, ARTICLE_EXAMPLE)},
                "responses": _answers(
                    409,
                    *_BODY_REFUSALS,
                    _200=_ok("replaced (or unchanged: see X-Feeds-Write)", _ARTICLE_OUT),
                    _201=_ok("created", _ARTICLE_OUT),
                ),
            },
            "get": {
                "summary": "An article as it was sent",
                "responses": _answers(_200=_ok("the article", _ARTICLE_OUT)),
            },
            "delete": {
                "summary": "Delete an article: it leaves every feed and archive page",
                "responses": _answers(409, _204=_ok("deleted")),
            },
        },
        "/api/overrides": {
            "get": {
                "summary": "The overrides in force, and the audit trail (newest first)",
                "parameters": [
                    {
                        "name": "log",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": 1000},
                        "description": "audit lines to give (default 100)",
                    }
                ],
                "responses": _answers(
                    422,
                    _200=_ok(
                        "overrides and audit trail",
                        {
                            "type": "object",
                            "required": ["overrides", "log"],
                            "properties": {
                                "overrides": {"type": "array", "items": _OVERRIDE},
                                "log": {"type": "array", "items": _RECORD},
                            },
                        },
                    ),
                ),
            },
            "post": {
                "summary": "hide, unhide, pin, unpin, retitle or unretitle an item",
                "requestBody": {"required": True, **_json(_COMMAND, COMMAND_EXAMPLE)},
                "responses": _answers(
                    *_BODY_REFUSALS,
                    _201=_ok("in force", _OVERRIDE),
                    _200=_ok("ended (un…)", {"type": "object", "required": ["action", "item"]}),
                ),
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This description",
                "security": [],
                "responses": {"200": _ok("OpenAPI 3.1", {"type": "object"})},
            }
        },
    },
}
