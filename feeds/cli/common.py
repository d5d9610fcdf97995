"""What every subcommand shares: the global options, exit statuses, loading the config."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

from feeds.errors import StoreError
from feeds.store import DEFAULT_URL, Store
from feeds.store.engine import NoDatabase
from feeds.types import Config

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_DATABASE = 3

Handler = Callable[[argparse.Namespace], int]
AddParser = Callable[..., argparse.ArgumentParser]  # a subparsers action's add_parser


def version() -> str:
    try:
        return package_version("feeds")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name. Given after it (a
    subcommand's parser, ``suppress=True``), an option overrides the one given before; not
    given there, it leaves the top-level value alone."""
    parser = argparse.ArgumentParser(add_help=False)
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--config",
        default=default or os.environ.get("FEEDS_CONFIG", "config"),
        help="configuration directory (env FEEDS_CONFIG, default: config)",
    )
    parser.add_argument(
        "--database",
        default=default or os.environ.get("DATABASE_URL", DEFAULT_URL),
        help=f"sqlite:///… or postgresql://… (env DATABASE_URL, default: {DEFAULT_URL})",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default or False,
        help="log more (default: warnings only, or info for serve/run/scheduler)",
    )
    return parser


def add_command(
    sub: AddParser,
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str,
) -> argparse.ArgumentParser:
    """A subcommand taking the global options too (before or after its name)."""
    parser = sub(
        name,
        help=help,
        description=description,
        parents=[global_options(suppress=True)],
    )
    parser.set_defaults(handler=handler)
    return parser


def config_dir(args: argparse.Namespace) -> Path:
    return Path(args.config)


def load(config_dir: Path) -> Config:
    from feeds.config import load_config

    return load_config(config_dir)


def open_existing(database: str) -> Store:
    """The store at ``database`` for a command that only reads it: a SQLite file that does
    not exist is neither created nor migrated into being; StoreError (exit status 3) names
    the path instead. Use it as ``with open_existing(args.database) as store: …``."""
    try:
        return Store(database, create=False)
    except NoDatabase as e:
        raise StoreError(
            f"no database at {e.path} (run `feeds update` or `feeds run` first, "
            "or check --database / DATABASE_URL)"
        ) from e


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 failure``, ``2 failures``, ``0 failures``."""
    return f"{count} {word if count == 1 else many or word + 's'}"
