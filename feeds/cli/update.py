"""`feeds update`, `feeds refresh SOURCE_ID` and `feeds sources`: fetching, and what came of
it."""

from __future__ import annotations

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
from feeds.store import Store
from feeds.types import (
    FetchStatus,
    RefreshOutcome,
    SourceState,
    SourceStatus,
    shown_state,
)


def add_parsers(sub: AddParser) -> None:
    update_parser = add_command(
        sub,
        "update",
        lambda args: update(config_dir(args), args.database, force=args.force),
        help="fetch the sources that are due, sync articles, rebuild every feed, now",
        description="Fetch every enabled source that is due (its interval, Retry-After and "
        "backoff respected; a gone source (410) waits for its entry in sources.toml to "
        "change), sync the local articles, rebuild every feed, deliver hub pings. Prints "
        "one line per source; exit status 0 even when sources fail.",
    )
    update_parser.add_argument(
        "--force", action="store_true", help="fetch every enabled source, due or not, gone too"
    )
    refresh_parser = add_command(
        sub,
        "refresh",
        lambda args: refresh(config_dir(args), args.database, args.source_id),
        help="fetch one source now (retry now), then publish what changed",
        description="Fetch one source now, whatever its schedule, backoff or 410 say, then "
        "publish the feeds it changed. A running clock follows the source's new schedule.",
    )
    refresh_parser.add_argument("source_id", metavar="SOURCE_ID", help="the source's id")
    add_command(
        sub,
        "sources",
        lambda args: sources(config_dir(args), args.database),
        help="one line per source: id, state, last status, next attempt, error",
        description="A header, then one aligned line per configured source: its id, state "
        "(ok, failing, backoff, gone, disabled, new), the last HTTP status, the last "
        "success, the next attempt, and the last error, warning or move.",
    )


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

    config = load(config_dir)
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
        + (f", {plural(len(a.problems), 'bad file')} skipped)" if a.problems else ")")
    )
    for problem in a.problems:
        print(f"  {problem}")
    failed = sum(o.status is FetchStatus.ERROR for o in report.outcomes)
    waiting = f", {len(report.waiting)} not due (--force fetches them)" if report.waiting else ""
    print(
        f"sources: {len(report.outcomes)} fetched, {failed} failed{waiting}; "
        f"feeds: {report.feeds}, {plural(len(report.published), 'document')} changed"
    )
    return EXIT_OK


def refresh(config_dir: Path, database: str, source_id: str) -> int:
    from feeds.pipeline import Pipeline

    config = load(config_dir)
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
        f"{plural(len(published), 'document')} changed"
        + (f": {', '.join(published)}" if published else "")
    )
    return EXIT_OK


def sources(config_dir: Path, database: str) -> int:
    config = load(config_dir)
    with open_existing(database) as store:
        statuses = store.source_states()
    rows: list[tuple[str, ...]] = [("ID", "STATE", "HTTP", "LAST OK", "NEXT", "DETAIL")]
    for source in config.sources:
        status = statuses.get(source.id)
        state = shown_state(source, status)
        rows.append((source.id, state.value, *_status_columns(status, state)))
    print(table(rows))
    return EXIT_OK


def _status_columns(status: SourceStatus | None, state: SourceState) -> tuple[str, ...]:
    if status is None:
        return ("-", "-", "-", "")
    http = str(status.last_http_status) if status.last_http_status else "-"
    ok = f"{status.last_success:%Y-%m-%dT%H:%MZ}" if status.last_success else "-"
    waits = status.next_fetch and state not in (SourceState.GONE, SourceState.DISABLED)
    next_fetch = f"{status.next_fetch:%Y-%m-%dT%H:%MZ}" if waits and status.next_fetch else "-"
    details = [status.last_error] if status.last_error else []
    if status.warning:
        details.append(f"warning: {status.warning}")
    if status.moved_to:
        details.append(f"moved to {status.moved_to} (set url = {status.moved_to!r})")
    return (http, ok, next_fetch, "; ".join(details))


def table(rows: Sequence[Sequence[str]]) -> str:
    """``rows`` (the first a header) as aligned columns, two spaces apart; the last column
    is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]
        ).rstrip()
        for row in rows
    )
