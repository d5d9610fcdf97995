"""``access.toml`` → :class:`~feeds.types.Partner` values, one per ``[[partner]]`` table,
and :class:`~feeds.types.Client` values (API callers such as the CMS), one per ``[[client]]``.

The file is optional: without it no feed can be read with a key and nobody may call the API.
It holds only the SHA-256 of each key (``feeds partners new-key`` and ``feeds clients
new-key`` make a key and its hash); a key itself in this file would be a secret in a file,
and is refused. Feed names are checked against feeds.toml when that file could be read. One
key belongs to one partner or one client: a hash used twice is refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from feeds.config.table import Problems, Table, array_of_tables
from feeds.types import Client, ContentMode, Partner, Scope

ACCESS_FILE = "access.toml"

# Accepted keys. docs/config.md documents each of them.
ACCESS_TOP_KEYS = frozenset({"partner", "client"})
PARTNER_KEYS = frozenset({"id", "name", "feeds", "content", "key_sha256", "enabled"})
CLIENT_KEYS = frozenset({"id", "name", "key_sha256", "scopes", "enabled"})

SHA256_RE = re.compile(r"[0-9a-f]{64}\Z")


def load_access(
    data: Mapping[str, Any] | None, feed_names: Collection[str] | None, problems: Problems
) -> list[Partner]:
    """The valid partners; ``feed_names`` is None when feeds.toml was unreadable (no
    reference checks). ``data`` is None when there is no access.toml."""
    if data is None:
        return []
    partners: list[Partner] = []
    ids: set[str] = set()
    hashes: dict[str, str] = {}
    for label, raw in array_of_tables(
        data, ACCESS_FILE, "partner", "id", ACCESS_TOP_KEYS, problems
    ):
        before = len(problems)
        table = Table(raw, ACCESS_FILE, label, problems)
        table.check_keys(PARTNER_KEYS)
        partner_id = table.slug("id")
        name = table.string("name", required=True)
        feeds = _feeds(table, feed_names)
        content = table.choice("content", ContentMode, ContentMode.FULL)
        key_hash = _key_hash(table, "partners")
        enabled = table.boolean("enabled", True)
        if partner_id is not None:
            if partner_id in ids:
                table.problem("id", f"duplicate partner id {partner_id!r}")
            ids.add(partner_id)
        if key_hash is not None:
            if key_hash in hashes:
                table.problem(
                    "key_sha256", f"the same key as partner {hashes[key_hash]!r}: make a new one"
                )
            hashes.setdefault(key_hash, partner_id or label)
        if len(problems) > before:
            continue
        assert partner_id is not None and name is not None and feeds is not None
        assert content is not None and key_hash is not None and enabled is not None
        partners.append(
            Partner(
                id=partner_id,
                name=name,
                key_sha256=key_hash,
                feeds=feeds,
                content=content,
                enabled=enabled,
            )
        )
    return partners


def _feeds(table: Table, feed_names: Collection[str] | None) -> tuple[str, ...] | None:
    """``feeds``: feed names or ``"*"``; required, so that a partner is granted what the
    editor meant rather than everything by omission."""
    if not table.has("feeds"):
        table.problem("feeds", 'missing required key (feed names, or ["*"] for every feed)')
        return None
    feeds = table.strings("feeds", what="strings (feed names or '*')")
    if feeds is None:
        return None
    if not feeds:
        table.problem("feeds", 'must name at least one feed (or "*")')
        return None
    unknown = [f for f in feeds if f != "*" and feed_names is not None and f not in feed_names]
    for name in unknown:
        table.problem("feeds", f"unknown feed {name!r}")
    return None if unknown else feeds


def load_clients(
    data: Mapping[str, Any] | None, partners: Collection[Partner], problems: Problems
) -> list[Client]:
    """The valid API clients of access.toml (``data`` None: no file, no client)."""
    if data is None:
        return []
    clients: list[Client] = []
    ids: set[str] = set()
    hashes = {p.key_sha256: f"partner {p.id!r}" for p in partners}
    # Unknown top-level keys were reported with the partners.
    for label, raw in array_of_tables(data, ACCESS_FILE, "client", "id", frozenset(data), problems):
        before = len(problems)
        table = Table(raw, ACCESS_FILE, label, problems)
        table.check_keys(CLIENT_KEYS)
        client_id = table.slug("id")
        name = table.string("name", required=True)
        scopes = _scopes(table)
        key_hash = _key_hash(table, "clients")
        enabled = table.boolean("enabled", True)
        if client_id is not None:
            if client_id in ids:
                table.problem("id", f"duplicate client id {client_id!r}")
            ids.add(client_id)
        if key_hash is not None:
            if key_hash in hashes:
                table.problem("key_sha256", f"the same key as {hashes[key_hash]}: make a new one")
            hashes.setdefault(key_hash, f"client {client_id or label!r}")
        if len(problems) > before:
            continue
        assert client_id is not None and name is not None and scopes is not None
        assert key_hash is not None and enabled is not None
        clients.append(Client(client_id, name, key_hash, scopes, enabled))
    return clients


def _scopes(table: Table) -> frozenset[Scope] | None:
    """``scopes``: what the client may do, required (nothing is granted by omission)."""
    allowed = ", ".join(repr(s.value) for s in Scope)
    if not table.has("scopes"):
        table.problem("scopes", f"missing required key (a list of: {allowed})")
        return None
    names = table.strings("scopes", what=f"strings ({allowed})")
    if names is None:
        return None
    unknown = [n for n in names if n not in {s.value for s in Scope}]
    for name in unknown:
        table.problem("scopes", f"unknown scope {name!r} (known: {allowed})")
    return None if unknown else frozenset(Scope(n) for n in names)


def _key_hash(table: Table, command: str) -> str | None:
    """``key_sha256``: 64 lower-case hex digits, never the key itself."""
    value = table.string("key_sha256", required=True)
    if value is None:
        return None
    if not SHA256_RE.match(value):
        # Not echoed: a key pasted here by mistake must not reach a log.
        table.problem(
            "key_sha256",
            "must be the SHA-256 of the key, 64 lower-case hex digits "
            f"(`feeds {command} new-key ID` prints it)",
        )
        return None
    return value
