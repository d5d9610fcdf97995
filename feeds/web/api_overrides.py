"""``/api/overrides``: the editors' overrides of ``feeds hide``, ``unhide``, ``pin``, ``unpin``
and ``retitle``, over HTTP, through the same store functions (so the same audit trail, and
the same clock publishes them within seconds). Who did it is recorded as the ``by`` the
client names, followed by ``(api:CLIENT)``, or as ``api:CLIENT`` alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, request

from feeds.articles import FieldError
from feeds.config import parse_duration
from feeds.times import utc, utcnow
from feeds.types import Config, Override, OverrideAction, OverrideRecord, Scope
from feeds.web.api import ApiError, api_store, bp, caller, json_body, json_response, refuse

ACTIONS = ("hide", "unhide", "pin", "unpin", "retitle", "unretitle")
OVERRIDE_FIELDS = frozenset({"action", "item", "feed", "until", "title", "reason", "by"})
MAX_TEXT = 1000  # characters of an item, a title, a reason or a name
LOG_SIZE = 100


@bp.route("/overrides", methods=["POST"])
def post_override() -> Response:
    config, client = caller(Scope.OVERRIDES)
    body = {k: v for k, v in json_body().items() if v is not None}
    command = _command(body, config)
    by = f"{command['by']} (api:{client.id})" if command["by"] else f"api:{client.id}"
    action: str = command["action"]
    item: str = command["item"]
    store = api_store()
    ids = store.item_ids_for(item, config.site)
    if action.startswith("un"):
        base = OverrideAction(action[2:])
        feed = command["feed"] if base is OverrideAction.PIN else ""
        ended = store.remove_override(
            item, base, by=by, reason=command["reason"], now=utcnow(), feed=feed, item_ids=ids
        )
        if not ended:
            where = f" in {feed}" if feed else ""
            refuse(404, "item", f"{item!r} has no {base.value}{where} in force")
        return json_response({"action": action, "item": item, "feed": feed, "by": by})
    override = Override(
        item=item,
        action=OverrideAction(action),
        by=by,
        reason=command["reason"],
        at=utcnow(),
        feed=command["feed"],
        value=command["title"],
        until=command["until"],
    )
    store.add_override(override, ids)
    return json_response(override_json(override), 201)


@bp.route("/overrides", methods=["GET"])
def get_overrides() -> Response:
    caller(Scope.OVERRIDES)
    raw = request.args.get("log", str(LOG_SIZE))
    if not raw.isdigit() or int(raw) > 1000:
        refuse(422, "log", f"must be a whole number from 0 to 1000, not {raw[:50]!r}")
    store = api_store()
    now = utcnow()
    live = [o for o in store.overrides() if o.until is None or o.until > now]
    trail = store.override_log(int(raw))
    return json_response(
        {"overrides": [override_json(o) for o in live], "log": [record_json(r) for r in trail]}
    )


def _command(body: dict[str, Any], config: Config) -> dict[str, Any]:
    """The checked command of a POST, or 422 with one error per bad field."""
    errors: list[FieldError] = []

    def text(key: str, required: bool = False) -> str:
        value = body.get(key, "")
        if not isinstance(value, str) or len(value) > MAX_TEXT or not value.isprintable():
            errors.append(FieldError(key, f"must be a line of text of at most {MAX_TEXT}"))
            return ""
        if required and not value.strip():
            errors.append(FieldError(key, "missing required field"))
        return value.strip()

    for key in body:
        if key not in OVERRIDE_FIELDS:
            errors.append(FieldError(key, "unknown field"))
    action = body.get("action")
    if action not in ACTIONS:
        errors.append(FieldError("action", f"must be one of {', '.join(ACTIONS)}"))
        action = ""
    pins = action in ("pin", "unpin")
    command: dict[str, Any] = {
        "action": action,
        "item": text("item", required=True),
        "reason": text("reason"),
        "by": text("by"),
        "feed": text("feed", required=pins),
        "title": text("title", required=action == "retitle"),
        "until": None,
    }
    for key, allowed in (
        ("feed", pins),
        ("title", action == "retitle"),
        ("until", action == "pin"),
    ):
        if key in body and not allowed and action:
            errors.append(FieldError(key, f"does not apply to {action}"))
    if pins and command["feed"] and config.feed(command["feed"]) is None:
        errors.append(FieldError("feed", f"no feed {command['feed']!r} in feeds.toml"))
    if action == "pin" and "until" in body:
        command["until"] = _until(body["until"], errors)
    if errors:
        first: dict[str, FieldError] = {}
        for error in errors:
            first.setdefault(error.field, error)
        raise ApiError(422, list(first.values()))
    return command


def _until(value: object, errors: list[FieldError]) -> datetime | None:
    """A pin's end: ISO 8601 with an offset, or a duration from now ("6h")."""
    if not isinstance(value, str):
        errors.append(FieldError("until", "must be a string: ISO 8601 time or a duration"))
        return None
    now = utcnow()
    try:
        when = now + parse_duration(value)
    except (ValueError, OverflowError):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            errors.append(FieldError("until", 'not an ISO 8601 time nor a duration ("6h")'))
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            errors.append(FieldError("until", "needs a UTC offset"))
            return None
        when = utc(parsed)
    if when <= now:
        errors.append(FieldError("until", "is in the past"))
        return None
    return when


def override_json(o: Override) -> dict[str, Any]:
    return {
        "item": o.item,
        "action": o.action.value,
        "feed": o.feed,
        "title": o.value,
        "until": o.until.isoformat() if o.until else None,
        "by": o.by,
        "reason": o.reason,
        "at": o.at.isoformat(),
    }


def record_json(r: OverrideRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "at": r.at.isoformat(),
        "action": r.action,
        "item": r.item,
        "feed": r.feed,
        "title": r.value,
        "until": r.until.isoformat() if r.until else None,
        "by": r.by,
        "reason": r.reason,
    }
