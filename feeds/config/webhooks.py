"""``[[webhook]]`` tables of site.toml → :class:`~feeds.types.Webhook` values.

Each webhook names the URL events are POSTed to, the ``events`` it wants, optionally the
``feeds`` whose item events it wants, and ``secret_env``: the name of the environment variable
holding its HMAC secret (a secret is never written in a file; a variable that is not set is a
problem of this key). Feed names are checked against feeds.toml when that file could be read.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Any

from feeds.config.table import Problems, Table, unknown_key
from feeds.config.values import type_name
from feeds.types import EventType, Webhook

WEBHOOK_KEYS = frozenset({"url", "events", "feeds", "secret_env"})
EVENT_NAMES = tuple(e.value for e in EventType)
ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def load_webhooks(
    data: object,
    file: str,
    environ: Mapping[str, str],
    feed_names: Collection[str] | None,
    problems: Problems,
) -> tuple[Webhook, ...]:
    """The valid webhooks of ``data`` (the value of site.toml's ``webhook`` key, None when
    absent). Tables are labelled by position (``webhook[2]``): a URL may hold a token."""
    if data is None:
        return ()
    if not isinstance(data, list):
        problems.add(
            file, "webhook", f"must be an array of tables ([[webhook]]), not {type_name(data)}"
        )
        return ()
    hooks: list[Webhook] = []
    urls: set[str] = set()
    for index, raw in enumerate(data, start=1):
        label = f"webhook[{index}]"
        if not isinstance(raw, dict):
            problems.add(file, label, f"must be a table, not {type_name(raw)}")
            continue
        hook = _webhook(Table(raw, file, label, problems), environ, feed_names)
        if hook is None:
            continue
        if hook.url in urls:
            problems.add(file, f"{label}.url", "the same URL as another webhook")
            continue
        urls.add(hook.url)
        hooks.append(hook)
    return tuple(hooks)


def _webhook(
    table: Table, environ: Mapping[str, str], feed_names: Collection[str] | None
) -> Webhook | None:
    before = len(table.problems)
    table.check_keys(WEBHOOK_KEYS)
    url = table.url("url")
    events = _events(table)
    feeds = table.strings("feeds", what="feed names") if table.has("feeds") else ()
    if feeds and feed_names is not None:
        for name in feeds:
            if name not in feed_names:
                table.problem("feeds", f"unknown feed {name!r}{_nearest(name, feed_names)}")
    secret_env = table.string("secret_env", default="")
    secret = ""
    if secret_env:
        if not ENV_NAME_RE.match(secret_env):
            table.problem("secret_env", f"not an environment variable name: {secret_env[:60]!r}")
        else:
            secret = environ.get(secret_env, "")
            if not secret.strip():
                table.problem(
                    "secret_env", f"the environment variable {secret_env} is not set (or empty)"
                )
    if len(table.problems) > before:
        return None
    assert url is not None and events is not None and feeds is not None
    return Webhook(url, events, feeds, secret_env or "", secret)


def _events(table: Table) -> frozenset[EventType] | None:
    if not table.has("events"):
        table.problem("events", f"missing required key (a list of: {', '.join(EVENT_NAMES)})")
        return None
    names = table.strings("events", what="event names")
    if names is None:
        return None
    events: set[EventType] = set()
    for name in names:
        if name in EVENT_NAMES:
            events.add(EventType(name))
        else:
            known = unknown_key(name, EVENT_NAMES).replace("unknown key", f"unknown event {name!r}")
            table.problem("events", f"{known} (one of: {', '.join(EVENT_NAMES)})")
            return None
    if not events:
        table.problem("events", "must name at least one event")
        return None
    return frozenset(events)


def _nearest(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def webhook_data(site_data: Mapping[str, Any] | None) -> object:
    """The ``webhook`` value of site.toml's data (None when the file or the key is absent)."""
    return None if site_data is None else site_data.get("webhook")
