"""``feeds.toml`` → :class:`~feeds.types.FeedSpec` values, one per ``[[feed]]`` table.

Source selectors are checked against the ids and tags of ``sources.toml``
(:data:`~feeds.config.sources.KnownSources`) when that file could be read; ``include`` and
``exclude`` must compile as case-insensitive regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from feeds.config.sources import KnownSources
from feeds.config.table import Problems, Table, array_of_tables
from feeds.types import Access, ContentMode, FeedSpec

FEEDS_FILE = "feeds.toml"

# Accepted keys. docs/config.md documents each of them.
FEEDS_TOP_KEYS = frozenset({"feed"})
FEED_KEYS = frozenset(
    {
        "name",
        "title",
        "description",
        "local",
        "sources",
        "limit",
        "max_bytes",
        "include",
        "exclude",
        "max_age",
        "content",
        "access",
    }
)
LIMIT_RANGE = (1, 1000)
MIN_BUDGET = 10_000  # bytes: room for a feed's own elements and a few items


def load_feeds(
    data: Mapping[str, Any] | None, known: KnownSources | None, problems: Problems
) -> list[FeedSpec]:
    """The valid feeds; ``known`` is None when sources.toml was unreadable (no reference checks)."""
    if data is None:
        return []
    feeds: list[FeedSpec] = []
    names: set[str] = set()
    all_tags = set().union(*known.values()) if known else set()
    for label, raw in array_of_tables(data, FEEDS_FILE, "feed", "name", FEEDS_TOP_KEYS, problems):
        before = len(problems)
        table = Table(raw, FEEDS_FILE, label, problems)
        table.check_keys(FEED_KEYS)
        name = table.slug("name")
        raw_name = raw.get("name")
        if isinstance(raw_name, str):
            if raw_name in names:
                table.problem("name", f"duplicate feed name {raw_name!r}")
                continue
            names.add(raw_name)
        title = table.string("title", required=True)
        description = table.string("description", default="")
        local = _local(table)
        selectors = _sources(table, known, all_tags)
        limit = table.integer(
            "limit", FeedSpec.limit, minimum=LIMIT_RANGE[0], maximum=LIMIT_RANGE[1]
        )
        max_bytes = table.integer("max_bytes", FeedSpec.max_bytes, minimum=MIN_BUDGET)
        include = _patterns(table, "include")
        exclude = _patterns(table, "exclude")
        max_age = table.duration("max_age", None)
        content = table.choice("content", ContentMode, ContentMode.FULL)
        access = table.choice("access", Access, Access.PUBLIC)
        if local is False and selectors == ():
            problems.add(FEEDS_FILE, label, "selects nothing: set local and/or sources")
        if len(problems) > before:
            continue
        assert name is not None and title is not None and description is not None
        assert local is not None and selectors is not None and limit is not None
        assert max_bytes is not None
        assert include is not None and exclude is not None and content is not None
        assert access is not None
        feeds.append(
            FeedSpec(
                name=name,
                title=title,
                description=description,
                local=local,
                sources=selectors,
                limit=limit,
                max_bytes=max_bytes,
                include=include,
                exclude=exclude,
                max_age=max_age,
                content=content,
                access=access,
            )
        )
    return feeds


def _local(table: Table) -> bool | tuple[str, ...] | None:
    """``local``: true, false (the default) or a non-empty list of article tags."""
    if not table.has("local"):
        return False
    value = table.data["local"]
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(dict.fromkeys(value))
    table.problem("local", "must be true, false or a non-empty list of tags")
    return None


def _sources(
    table: Table, known: KnownSources | None, all_tags: set[str]
) -> tuple[str, ...] | None:
    """``sources``: source ids, ``"tag:NAME"`` or ``"*"``, each naming something that exists."""
    selectors = table.strings("sources", what="strings (source ids, 'tag:NAME' or '*')")
    if selectors is None:
        return None
    ok = True
    for selector in selectors:
        if selector == "*":
            continue
        if selector.startswith("tag:"):
            tag = selector[4:]
            if not tag.strip():
                table.problem("sources", f"empty tag name in {selector!r}")
                ok = False
            elif known is not None and tag not in all_tags:
                table.problem("sources", f"no source has tag {tag!r}")
                ok = False
        elif known is not None and selector not in known:
            table.problem("sources", f"unknown source {selector!r}")
            ok = False
    return selectors if ok else None


def _patterns(table: Table, key: str) -> tuple[str, ...] | None:
    """``include`` or ``exclude``: regular expressions, matched case-insensitively."""
    patterns = table.strings(key, what="strings (regular expressions)")
    if patterns is None:
        return None
    ok = True
    for pattern in patterns:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as e:
            table.problem(key, f"invalid regular expression {pattern!r}: {e}")
            ok = False
    return patterns if ok else None
