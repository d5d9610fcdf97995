"""``sources.toml`` → :class:`~feeds.types.Source` values, one per ``[[source]]`` table.

Besides the valid sources, the loader returns every source id it could read with that source's
tags (:data:`KnownSources`), even for sources with other problems, so that ``feeds.toml`` is
checked against what the editor wrote rather than drowned in follow-up errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from feeds.config.table import Problems, Table, array_of_tables
from feeds.types import Republish, Source

SOURCES_FILE = "sources.toml"

# Accepted keys. docs/config.md documents each of them.
SOURCES_TOP_KEYS = frozenset({"source"})
SOURCE_KEYS = frozenset(
    {"id", "url", "title", "tags", "interval", "enabled", "max_items", "max_age", "republish"}
)
MIN_SOURCE_INTERVAL = timedelta(minutes=1)

KnownSources = dict[str, set[str]]
"""Each source id written in sources.toml, with the tags written beside it."""


def load_sources(
    data: Mapping[str, Any] | None, problems: Problems
) -> tuple[list[Source], KnownSources | None]:
    """The valid sources, and every id with its tags (for checking feeds.toml) if readable."""
    if data is None:
        return [], None
    sources: list[Source] = []
    known: KnownSources = {}
    tables = array_of_tables(data, SOURCES_FILE, "source", "id", SOURCES_TOP_KEYS, problems)
    for label, raw in tables:
        before = len(problems)
        table = Table(raw, SOURCES_FILE, label, problems)
        table.check_keys(SOURCE_KEYS)
        source_id = table.slug("id")
        url = table.url("url")
        title = table.string("title", required=True)
        tags = table.strings("tags", what="strings (tags)")
        interval = table.duration("interval", Source.interval, minimum=MIN_SOURCE_INTERVAL)
        enabled = table.boolean("enabled", True)
        max_items = table.integer("max_items", Source.max_items, minimum=1, maximum=100_000)
        max_age = table.duration("max_age", None, minimum=timedelta(hours=1))
        republish = table.choice("republish", Republish, Republish.FULL)
        raw_id = raw.get("id")
        if isinstance(raw_id, str):
            if raw_id in known:
                table.problem("id", f"duplicate source id {raw_id!r}")
                continue
            raw_tags = raw.get("tags")
            known[raw_id] = (
                {t for t in raw_tags if isinstance(t, str)} if isinstance(raw_tags, list) else set()
            )
        if len(problems) > before:
            continue
        assert source_id is not None and url is not None and title is not None
        assert tags is not None and interval is not None and enabled is not None
        assert max_items is not None and republish is not None
        sources.append(
            Source(
                id=source_id,
                url=url,
                title=title,
                tags=tags,
                interval=interval,
                enabled=enabled,
                max_items=max_items,
                max_age=max_age,
                republish=republish,
            )
        )
    return sources, known
