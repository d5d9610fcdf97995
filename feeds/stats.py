"""`feeds stats`: a readership report as aligned text tables (pure; the CLI prints it).

Four tables, each with a header line: requests per feed and variant, each partner's use,
subscribers per feed and aggregator (with each feed's total), and distinct other clients per
feed and UTC day. Feeds and partners of the config that nobody read are listed with zeros.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from feeds.types import FeedReads, Readership

Cell = str | int


def when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%dT%H:%MZ}" if value is not None else "never"


def table(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> list[str]:
    """Aligned columns: numbers to the right, text to the left, two spaces apart."""
    body = [list(row) for row in rows]
    numeric = [
        all(isinstance(row[i], int) for row in body) and bool(body) for i in range(len(header))
    ]
    cells = [list(header), *([str(c) for c in row] for row in body)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = [
            row[i].rjust(widths[i]) if numeric[i] else row[i].ljust(widths[i])
            for i in range(len(header))
        ]
        lines.append("  ".join(parts).rstrip())
    return lines


def heading(seen: Readership, since_text: str | None) -> str:
    if seen.since is None:
        return (
            f"Readership at {when(seen.now)}: requests since counting began; subscribers and "
            f"clients since {when(seen.window_start)} (the last 7 days)"
        )
    return (
        f"Readership since {when(seen.since)} ({since_text}; requests counted by the hour), "
        f"at {when(seen.now)}"
    )


def report(
    seen: Readership,
    *,
    feeds: Sequence[str] = (),
    partners: Sequence[str] = (),
    since_text: str | None = None,
) -> list[str]:
    """The lines `feeds stats` prints. ``feeds`` and ``partners``: the configured ones, shown
    even when nobody read them."""
    lines = [heading(seen, since_text), ""]
    reads: dict[tuple[str, str], FeedReads | None] = {(r.feed, r.variant): r for r in seen.feeds}
    for feed in feeds:
        reads.setdefault((feed, ""), None)
    rows: list[list[Cell]] = []
    for (feed, variant), r in sorted(reads.items()):
        if r is None:
            rows.append([feed, "own", 0, 0, 0, 0, 0])
        else:
            other = r.requests - r.ok - r.not_modified
            rows.append([feed, variant or "own", r.requests, r.ok, r.not_modified, other, r.bytes])
    lines += table(["FEED", "VARIANT", "REQUESTS", "200", "304", "OTHER", "BYTES"], rows)
    lines.append("")
    used = {p.partner: p for p in seen.partners}
    partner_rows: list[list[Cell]] = []
    for partner in sorted({*used, *partners}):
        p = used.get(partner)
        if p is None:
            partner_rows.append([partner, 0, "never", "-"])
        else:
            partner_rows.append([partner, p.requests, when(p.last_seen), ", ".join(p.feeds)])
    lines += table(["PARTNER", "REQUESTS", "LAST SEEN", "FEEDS READ"], partner_rows)
    lines.append("")
    subscriber_rows: list[list[Cell]] = []
    for feed in sorted({s.feed for s in seen.subscribers}):
        mine = [s for s in seen.subscribers if s.feed == feed]
        for s in mine:
            subscriber_rows.append(
                [feed, s.aggregator, s.feed_id or "-", s.format, s.subscribers, when(s.reported)]
            )
        subscriber_rows.append([feed, "(all)", "", "", seen.subscribers_of(feed), ""])
    lines += table(
        ["FEED", "AGGREGATOR", "FEED ID", "FORMAT", "SUBSCRIBERS", "REPORTED"], subscriber_rows
    )
    lines.append("")
    client_rows: list[list[Cell]] = [[f"{c.day:%Y-%m-%d}", c.feed, c.clients] for c in seen.clients]
    lines += table(["DAY", "FEED", "CLIENTS"], client_rows)
    return lines
