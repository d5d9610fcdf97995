"""`feeds check`: validate the config and articles, and the published documents for a
platform."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from feeds.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    AddParser,
    add_command,
    config_dir,
    load,
    open_existing,
    plural,
)
from feeds.platforms import PLATFORMS, Platform
from feeds.store import DEFAULT_URL
from feeds.types import Config, Format


def add_parsers(sub: AddParser) -> None:
    parser = add_command(
        sub,
        "check",
        _check,
        help="validate the config and the local articles (and the published feeds)",
        description="Validate the config and the local articles: one 'file: key: problem' "
        "line per problem, exit status 2 for the config, 1 for articles. With --platform, "
        "also check the published documents against that platform's feed rules: one "
        "'feed: item: rule' line per violation (docs/platforms.md explains each rule).",
    )
    parser.add_argument(
        "--platform", choices=sorted(PLATFORMS), help="check the published feeds for a platform"
    )
    parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="FEED",
        help="with --platform: only this feed (repeatable; default: every feed)",
    )


def _check(args: argparse.Namespace) -> int:
    return check(config_dir(args), args.database, platform=args.platform, feeds=args.feed)


def check(
    config_dir: Path,
    database: str = DEFAULT_URL,
    *,
    platform: str | None = None,
    feeds: Sequence[str] = (),
) -> int:
    from feeds.articles import load_articles

    config = load(config_dir)
    found, problems = load_articles(config.site)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"{config_dir}: {plural(len(config.sources), 'source')}, "
        f"{plural(len(config.feeds), 'feed')}, "
        + (f"{plural(len(config.partners), 'partner')}, " if config.partners else "")
        + plural(len(found), "article")
        + (f", {plural(len(problems), 'bad article file')}" if problems else "")
    )
    status = 1 if problems else EXIT_OK
    if platform is None:
        return status
    return max(status, check_platform(config, database, PLATFORMS[platform], feeds))


def check_platform(
    config: Config, database: str, platform: Platform, names: Sequence[str] = ()
) -> int:
    """Check the published documents of the feeds ``names`` (default: every feed) against
    ``platform``'s rules: one ``feed: item: rule`` line per violation; 1 when there is any."""
    from feeds.platforms import check_feed
    from feeds.times import utcnow

    unknown = [name for name in names if config.feed(name) is None]
    if unknown:
        known = ", ".join(spec.name for spec in config.feeds) or "none"
        print(f"error: no feed {', '.join(map(repr, unknown))}; feeds: {known}", file=sys.stderr)
        return EXIT_CONFIG
    specs = [spec for spec in config.feeds if not names or spec.name in names]
    now = utcnow()
    violations = []
    with open_existing(database) as store:
        for spec in specs:
            bodies = {}
            for fmt in Format:
                document = store.get_document(spec.name, fmt)
                if document is not None:
                    bodies[fmt] = document.body
            violations += check_feed(platform, spec.name, bodies, now)
    for violation in violations:
        print(violation)
    feeds = plural(len(specs), "feed")
    if violations:
        problems = plural(len(violations), "problem")
        print(f"{platform.title}: {problems} in {feeds}", file=sys.stderr)
        return 1
    print(f"{platform.title}: no problems in {feeds}")
    return EXIT_OK
