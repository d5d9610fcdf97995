"""The `feeds` command."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from feeds.errors import ConfigError, FeedsError, StoreError
from feeds.platforms import PLATFORMS, Platform
from feeds.store import DEFAULT_URL, Store
from feeds.types import (
    Config,
    FetchStatus,
    Format,
    RefreshOutcome,
    SourceState,
    SourceStatus,
    shown_state,
)

EXIT_OK = 0
EXIT_CONFIG = 2
EXIT_DATABASE = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feeds",
        description="Pull upstream feeds, merge them with local articles, publish them.",
    )
    parser.add_argument(
        "--config",
        default=os.environ.get("FEEDS_CONFIG", "config"),
        help="configuration directory (env FEEDS_CONFIG, default: config)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL", DEFAULT_URL),
        help=f"sqlite:///… or postgresql://… (env DATABASE_URL, default {DEFAULT_URL})",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check_parser = sub.add_parser(
        "check",
        help="validate the config and the local articles (and the published feeds)",
        description="Validate the config and the local articles. With --platform, also check "
        "the published documents against that platform's feed rules: one 'feed: item: rule' "
        "line per violation (docs/platforms.md explains each rule).",
    )
    check_parser.add_argument(
        "--platform", choices=sorted(PLATFORMS), help="check the published feeds for a platform"
    )
    check_parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="FEED",
        help="with --platform: only this feed (repeatable; default: every feed)",
    )
    update_parser = sub.add_parser(
        "update",
        help="fetch the sources that are due, sync articles, rebuild every feed, now",
        description="Fetch every enabled source that is due (its interval, Retry-After and "
        "backoff respected; a gone source (410) waits for its entry in sources.toml to "
        "change), sync the local articles, rebuild every feed, deliver hub pings.",
    )
    update_parser.add_argument(
        "--force", action="store_true", help="fetch every enabled source, due or not, gone too"
    )
    refresh_parser = sub.add_parser(
        "refresh",
        help="fetch one source now (retry now), then publish what changed",
        description="Fetch one source now, whatever its schedule, backoff or 410 say, then "
        "publish the feeds it changed. A running clock follows the source's new schedule.",
    )
    refresh_parser.add_argument("source_id", metavar="SOURCE_ID", help="the source's id")
    sub.add_parser("sources", help="one line per source: id, state, last status, error")
    for name, text in (("serve", "serve the published feeds"), ("run", "web + scheduler")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    sub.add_parser("scheduler", help="the clock process: fetch and publish on schedule")
    partners_parser = sub.add_parser("partners", help="partners' keys (see docs/partners.md)")
    partners_sub = partners_parser.add_subparsers(dest="partners_command", required=True)
    new_key = partners_sub.add_parser(
        "new-key",
        help="make a new key for a partner: printed once, with the line for access.toml",
        description="Print a new random key (256 bits, URL-safe) once, and the key_sha256 "
        "line to put in the partner's [[partner]] table in access.toml. Only the hash is "
        "ever stored; give the key to the partner and keep no copy.",
    )
    new_key.add_argument("partner_id", metavar="PARTNER_ID", help="the partner's id")
    stats_parser = sub.add_parser(
        "stats",
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
    return parser


def _duration(text: str) -> tuple[str, timedelta]:
    from feeds.config import parse_duration

    try:
        return text, parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    long_running = args.command in ("serve", "run", "scheduler")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO if long_running else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "alembic", "apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    config_dir = Path(args.config)
    try:
        if args.command == "check":
            return check(config_dir, args.database, platform=args.platform, feeds=args.feed)
        if args.command == "update":
            return update(config_dir, args.database, force=args.force)
        if args.command == "refresh":
            return refresh(config_dir, args.database, args.source_id)
        if args.command == "sources":
            return sources(config_dir, args.database)
        if args.command == "serve":
            return serve(config_dir, args.database, args.host, args.port, with_clock=False)
        if args.command == "run":
            return serve(config_dir, args.database, args.host, args.port, with_clock=True)
        if args.command == "scheduler":
            return scheduler(config_dir, args.database)
        if args.command == "partners":
            return new_partner_key(config_dir, args.partner_id)
        if args.command == "stats":
            return stats(config_dir, args.database, args.since)
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
    raise AssertionError(args.command)


def _load(config_dir: Path) -> Config:
    from feeds.config import load_config

    return load_config(config_dir)


def check(
    config_dir: Path,
    database: str = DEFAULT_URL,
    *,
    platform: str | None = None,
    feeds: Sequence[str] = (),
) -> int:
    from feeds.articles import load_articles

    config = _load(config_dir)
    found, problems = load_articles(config.site)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"{config_dir}: {len(config.sources)} sources, {len(config.feeds)} feeds, "
        + (f"{len(config.partners)} partners, " if config.partners else "")
        + f"{len(found)} articles"
        + (f", {len(problems)} bad article files" if problems else "")
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
    with Store(database) as store:
        for spec in specs:
            bodies = {}
            for fmt in Format:
                document = store.get_document(spec.name, fmt)
                if document is not None:
                    bodies[fmt] = document.body
            violations += check_feed(platform, spec.name, bodies, now)
    for violation in violations:
        print(violation)
    feeds = f"{len(specs)} feed" + ("" if len(specs) == 1 else "s")
    if violations:
        problems = f"{len(violations)} problem" + ("" if len(violations) == 1 else "s")
        print(f"{platform.title}: {problems} in {feeds}", file=sys.stderr)
        return 1
    print(f"{platform.title}: no problems in {feeds}")
    return EXIT_OK


def _outcome_line(o: RefreshOutcome, width: int) -> str:
    if o.status is FetchStatus.ERROR:
        detail = o.error or "failed"
    elif o.status is FetchStatus.NOT_MODIFIED:
        detail = "not modified"
    else:
        detail = f"{o.new} new, {o.updated} updated"
    return f"{o.source_id:<{width}}  {o.status.value:<12}  {detail}  ({o.duration:.2f}s)"


def _waiting_line(status: SourceStatus, width: int) -> str:
    if status.state is SourceState.GONE:
        detail = "gone (HTTP 410): fetched again when its entry in sources.toml changes"
    else:
        when = f"{status.next_fetch:%Y-%m-%dT%H:%MZ}" if status.next_fetch else "soon"
        detail = f"next attempt {when}" + (
            f" (last: {status.last_error})" if status.last_error else ""
        )
    return f"{status.id:<{width}}  {'not due':<12}  {detail}"


def update(config_dir: Path, database: str, *, force: bool = False) -> int:
    from feeds.pipeline import Pipeline

    config = _load(config_dir)
    with Store(database) as store, Pipeline(config, store) as pipeline:
        report = pipeline.update(force=force)
    ids = [o.source_id for o in report.outcomes] + [s.id for s in report.waiting]
    width = max((len(i) for i in ids), default=0)
    for o in report.outcomes:
        print(_outcome_line(o, width))
    for status in report.waiting:
        print(_waiting_line(status, width))
    a = report.articles
    print(
        f"articles: {a.count} ({a.added} added, {a.updated} updated, {a.removed} removed"
        + (f", {len(a.problems)} bad files skipped)" if a.problems else ")")
    )
    for problem in a.problems:
        print(f"  {problem}")
    failed = sum(o.status is FetchStatus.ERROR for o in report.outcomes)
    waiting = f", {len(report.waiting)} not due (--force fetches them)" if report.waiting else ""
    print(
        f"sources: {len(report.outcomes)} fetched, {failed} failed{waiting}; "
        f"feeds: {report.feeds}, {len(report.published)} documents changed"
    )
    return EXIT_OK


def refresh(config_dir: Path, database: str, source_id: str) -> int:
    from feeds.pipeline import Pipeline

    config = _load(config_dir)
    source = config.source(source_id)
    if source is None or not source.enabled:
        known = ", ".join(s.id for s in config.sources if s.enabled) or "none"
        why = "is disabled (enabled = false)" if source else "is not in sources.toml"
        print(f"error: source {source_id!r} {why}; enabled sources: {known}", file=sys.stderr)
        return EXIT_CONFIG
    with Store(database) as store, Pipeline(config, store) as pipeline:
        outcome = pipeline.refresh(source, force=True)
        published = (
            pipeline.publish_all(pipeline.feeds_using([source.id])) if outcome.changed else []
        )
        if published and config.site.hub:
            pipeline.deliver_hub_pings()
        status = store.source_status(source.id)
    print(_outcome_line(outcome, len(source.id)))
    if status is not None and status.next_fetch is not None:
        print(f"next attempt {status.next_fetch:%Y-%m-%dT%H:%MZ}")
    print(
        f"{len(published)} documents changed" + (f": {', '.join(published)}" if published else "")
    )
    return EXIT_OK


def sources(config_dir: Path, database: str) -> int:
    config = _load(config_dir)
    with Store(database) as store:
        statuses = store.source_states()
    for source in config.sources:
        status = statuses.get(source.id)
        state = shown_state(source, status)
        http = str(status.last_http_status) if status and status.last_http_status else "-"
        parts = [source.id, state.value, http]
        if status and status.last_success:
            parts.append(f"ok {status.last_success:%Y-%m-%dT%H:%MZ}")
        if status and status.next_fetch and state not in (SourceState.GONE, SourceState.DISABLED):
            parts.append(f"next {status.next_fetch:%Y-%m-%dT%H:%MZ}")
        if status and status.last_error:
            parts.append(status.last_error)
        if status and status.warning:
            parts.append(f"warning: {status.warning}")
        if status and status.moved_to:
            parts.append(f"moved to {status.moved_to} (set url = {status.moved_to!r})")
        print("  ".join(parts))
    return EXIT_OK


def new_partner_key(config_dir: Path, partner_id: str) -> int:
    import secrets

    from feeds.config import ACCESS_FILE, is_slug
    from feeds.web.auth import key_sha256

    if not is_slug(partner_id):
        print(f"error: not a partner id (a slug): {partner_id!r}", file=sys.stderr)
        return EXIT_CONFIG
    key = secrets.token_urlsafe(32)
    access = config_dir / ACCESS_FILE
    print(f"New key for partner {partner_id!r}, shown only this once (give it to the partner):")
    print(key)
    print()
    try:
        known = partner_id in {p.id for p in _load(config_dir).partners}
    except ConfigError:
        known = False
    if known:
        print(f"Replace key_sha256 in the [[partner]] table with id = {partner_id!r} in {access}")
        print("(the old key stops working within seconds of saving the file):")
        print(f'key_sha256 = "{key_sha256(key)}"')
    else:
        print(f"Add this table to {access}:")
        print("[[partner]]")
        print(f'id = "{partner_id}"')
        print(f'name = "{partner_id}"')
        print('feeds = ["*"]  # or the names of the feeds it may read')
        print('content = "full"')
        print(f'key_sha256 = "{key_sha256(key)}"')
    return EXIT_OK


def stats(config_dir: Path, database: str, since: tuple[str, timedelta] | None) -> int:
    from feeds.stats import report

    try:
        config: Config | None = _load(config_dir)
    except ConfigError:
        config = None  # the figures are in the database; the config only adds zeros
    now = datetime.now(UTC)
    with Store(database) as store:
        seen = store.readership(now - since[1] if since else None, now)
    lines = report(
        seen,
        feeds=[f.name for f in config.feeds] if config else (),
        partners=[p.id for p in config.partners] if config else (),
        since_text=since[0] if since else None,
    )
    print("\n".join(lines))
    return EXIT_OK


def _stop_on_sigterm() -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def scheduler(config_dir: Path, database: str) -> int:
    from feeds.pipeline import Pipeline
    from feeds.reload import ConfigWatcher
    from feeds.scheduler import Clock

    watcher = ConfigWatcher(config_dir)
    _stop_on_sigterm()
    with Store(database) as store, Pipeline(watcher.current, store) as pipeline:
        clock = Clock(pipeline, watcher, blocking=True)
        try:
            clock.start()
        except KeyboardInterrupt:
            pass
        finally:
            clock.shutdown()
    return EXIT_OK


def serve(config_dir: Path, database: str, host: str, port: int, *, with_clock: bool) -> int:
    from feeds.web import create_app
    from feeds.web import serve as serve_app

    app = create_app({"FEEDS_CONFIG": str(config_dir), "DATABASE_URL": database})
    clock = None
    pipeline = None
    store = None
    if with_clock:
        from feeds.pipeline import Pipeline
        from feeds.reload import ConfigWatcher
        from feeds.scheduler import Clock

        watcher = ConfigWatcher(config_dir)
        store = Store(database)
        pipeline = Pipeline(watcher.current, store)
        clock = Clock(pipeline, watcher, blocking=False)
        clock.start()
    _stop_on_sigterm()
    print(f"serving on http://{host}:{port}/", flush=True)
    try:
        serve_app(app, host, port)
    except KeyboardInterrupt:
        pass
    finally:
        if clock is not None:
            clock.shutdown()
        if pipeline is not None:
            pipeline.close()
        if store is not None:
            store.close()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
