"""The `feeds` command: one module per group of subcommands, each registering its parsers
with a handler (``set_defaults(handler=…)``) that takes the parsed arguments and returns the
exit status."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from feeds.cli import admin, check, editorial, opml, serve, update
from feeds.cli.common import (
    EXIT_CONFIG,
    EXIT_DATABASE,
    Handler,
    global_options,
    version,
)
from feeds.errors import ConfigError, FeedsError, StoreError
from feeds.web.logs import log_to_stderr

# In the order `feeds --help` lists their commands.
GROUPS = (check, update, serve, editorial, opml, admin)
LONG_RUNNING = ("serve", "run", "scheduler")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeds",
        description="Pull upstream feeds, merge them with local articles, publish them.",
        parents=[global_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.add_parsers(sub.add_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # redacted: error texts name source URLs, never their secrets
    log_to_stderr(
        logging.DEBUG
        if args.verbose
        else logging.INFO
        if args.command in LONG_RUNNING
        else logging.WARNING
    )
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"database: {e}", file=sys.stderr)
        return EXIT_DATABASE
    except FeedsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
