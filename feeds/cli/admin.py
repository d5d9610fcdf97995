"""`feeds partners new-key`, `feeds clients new-key` and `feeds stats`: partners' and API
clients' keys, and readership."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    AddParser,
    add_command,
    config_dir,
    load,
    open_existing,
)
from feeds.errors import ConfigError
from feeds.types import Config


def add_parsers(sub: AddParser) -> None:
    partners = sub(
        "partners",
        help="partners' keys (see docs/partners.md)",
        description="Partners' keys (see docs/partners.md).",
    )
    partners_sub = partners.add_subparsers(
        dest="partners_command", required=True, metavar="COMMAND"
    )
    new_key = add_command(
        partners_sub.add_parser,
        "new-key",
        lambda args: new_partner_key(config_dir(args), args.partner_id),
        help="make a new key for a partner: printed once, with the line for access.toml",
        description="Print a new random key (256 bits, URL-safe) once, and the key_sha256 "
        "line to put in the partner's [[partner]] table in access.toml. Only the hash is "
        "ever stored; give the key to the partner and keep no copy.",
    )
    new_key.add_argument("partner_id", metavar="PARTNER_ID", help="the partner's id")
    clients = sub(
        "clients",
        help="API clients' keys (see docs/api.md)",
        description="API clients' keys (see docs/api.md).",
    )
    clients_sub = clients.add_subparsers(dest="clients_command", required=True, metavar="COMMAND")
    client_key = add_command(
        clients_sub.add_parser,
        "new-key",
        lambda args: new_client_key(config_dir(args), args.client_id),
        help="make a new key for an API client: printed once, with the line for access.toml",
        description="Print a new random key (256 bits, URL-safe) once, and the key_sha256 "
        "line to put in the client's [[client]] table in access.toml. Only the hash is ever "
        "stored; give the key to the client (the CMS) and keep no copy.",
    )
    client_key.add_argument("client_id", metavar="CLIENT_ID", help="the client's id")
    stats_parser = add_command(
        sub,
        "stats",
        lambda args: stats(config_dir(args), args.database, args.since),
        help="readership: requests and 304s per feed, subscribers, each partner's use",
        description="Readership of each feed, as the web processes counted it (flushed every "
        "few seconds): requests, 200s, 304s and bytes per feed and variant; each partner's "
        "requests, last visit and feeds; the subscribers aggregators report; distinct other "
        "clients per day. See docs/readership.md.",
    )
    stats_parser.add_argument(
        "--since",
        metavar="DURATION",
        type=_duration,
        help='only this recent, e.g. "7d", "12h" (default: requests ever; subscribers and '
        "clients of the last 7 days)",
    )


def _duration(text: str) -> tuple[str, timedelta]:
    from feeds.config import parse_duration

    try:
        return text, parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def new_partner_key(config_dir: Path, partner_id: str) -> int:
    return _new_key(
        config_dir,
        "partner",
        partner_id,
        ['feeds = ["*"]  # or the names of the feeds it may read', 'content = "full"'],
    )


def new_client_key(config_dir: Path, client_id: str) -> int:
    return _new_key(
        config_dir, "client", client_id, ['scopes = ["articles"]  # and/or "overrides"']
    )


def _new_key(config_dir: Path, kind: str, holder_id: str, table_lines: list[str]) -> int:
    """Print a new key for the partner or client ``holder_id`` once, and the key_sha256 line
    (with a whole table to add when access.toml does not name it yet)."""
    from feeds.config import ACCESS_FILE, is_slug
    from feeds.web.auth import new_key

    if not is_slug(holder_id):
        print(f"error: not a {kind} id (a slug): {holder_id!r}", file=sys.stderr)
        return EXIT_CONFIG
    key, digest = new_key()
    access = config_dir / ACCESS_FILE
    print(f"New key for {kind} {holder_id!r}, shown only this once (give it to the {kind}):")
    print(key)
    print()
    try:
        config = load(config_dir)
        holders = config.partners if kind == "partner" else config.clients
        known = holder_id in {h.id for h in holders}
    except ConfigError:
        known = False
    if known:
        print(f"Replace key_sha256 in the [[{kind}]] table with id = {holder_id!r} in {access}")
        print("(the old key stops working within seconds of saving the file):")
        print(f'key_sha256 = "{digest}"')
    else:
        print(f"Add this table to {access}:")
        print(f"[[{kind}]]")
        print(f'id = "{holder_id}"')
        print(f'name = "{holder_id}"')
        for line in table_lines:
            print(line)
        print(f'key_sha256 = "{digest}"')
    return EXIT_OK


def stats(config_dir: Path, database: str, since: tuple[str, timedelta] | None) -> int:
    from feeds.stats import report

    try:
        config: Config | None = load(config_dir)
    except ConfigError:
        config = None  # the figures are in the database; the config only adds zeros
    now = datetime.now(UTC)
    with open_existing(database) as store:
        seen = store.readership(now - since[1] if since else None, now)
    lines = report(
        seen,
        feeds=[f.name for f in config.feeds] if config else (),
        partners=[p.id for p in config.partners] if config else (),
        since_text=since[0] if since else None,
    )
    print("\n".join(lines))
    return EXIT_OK
