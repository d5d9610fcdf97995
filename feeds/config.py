"""Load and validate ``config/*.toml`` into :class:`~feeds.types.Config`.

Every problem is collected and reported at once, one ``FILE: key path: problem`` line each,
through :class:`~feeds.errors.ConfigError`. The accepted keys live in the module-level
constants below; ``docs/config.md`` documents exactly these (a test keeps them in step).
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feeds import __version__
from feeds.errors import ConfigError
from feeds.types import Config, ContentMode, FeedSpec, FetchSettings, Site, Source

SITE_FILE = "site.toml"
SOURCES_FILE = "sources.toml"
FEEDS_FILE = "feeds.toml"
CONFIG_FILES = (SITE_FILE, SOURCES_FILE, FEEDS_FILE)

# Accepted keys, per table. docs/config.md documents each of them.
SITE_KEYS = frozenset(
    {
        "title",
        "link",
        "base_url",
        "description",
        "language",
        "articles",
        "copyright",
        "articles_interval",
        "hub",
        "icon",
        "logo",
        "archive_page_size",
        "fetch",
    }
)
FETCH_KEYS = frozenset(
    {
        "user_agent",
        "deadline",
        "max_bytes",
        "concurrency",
        "max_redirects",
        "allow_private_addresses",
        "per_host",
        "host_spacing",
    }
)
SOURCES_TOP_KEYS = frozenset({"source"})
SOURCE_KEYS = frozenset(
    {"id", "url", "title", "tags", "interval", "enabled", "max_items", "max_age"}
)
FEEDS_TOP_KEYS = frozenset({"feed"})
FEED_KEYS = frozenset(
    {
        "name",
        "title",
        "description",
        "local",
        "sources",
        "limit",
        "include",
        "exclude",
        "max_age",
        "content",
    }
)
ENV_OVERRIDES = frozenset({"FEEDS_BASE_URL", "FEEDS_ALLOW_PRIVATE_ADDRESSES"})

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}\Z")  # at most 100 characters
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")
MIN_SOURCE_INTERVAL = timedelta(minutes=1)
LIMIT_RANGE = (1, 1000)
DEFAULT_ARTICLES_INTERVAL = "30s"
_TRUE_WORDS = frozenset({"1", "true", "yes"})
_FALSE_WORDS = frozenset({"", "0", "false", "no"})

_DURATION_RE = re.compile(
    r"(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?\Z"
)
_TOML_POSITION_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_END_RE = re.compile(r"^(?P<msg>.*) \(at end of document\)$")


# --------------------------------------------------------------------------- helpers


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` or combinations like ``"1h30m"``.

    Units must appear largest first, each at most once. Zero is refused.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a duration string: {text!r}")
    cleaned = text.strip().lower()
    match = _DURATION_RE.match(cleaned)
    if not cleaned or match is None:
        raise ValueError(
            f"not a duration: {text!r} (use a number with a unit: s, m, h, d or w, e.g. '15m', "
            "'1h30m')"
        )
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
    value = timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("m", 0),
        seconds=parts.get("s", 0),
    )
    if value <= timedelta(0):
        raise ValueError(f"duration must be greater than zero: {text!r}")
    return value


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL with a host and nothing a browser would reject."""
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def is_slug(value: object) -> bool:
    return isinstance(value, str) and SLUG_RE.match(value) is not None


def config_fingerprint(config_dir: Path) -> str:
    """A cheap fingerprint of the three config files (name, mtime_ns, size) to spot changes."""
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        try:
            stat = (config_dir / name).stat()
        except OSError:
            digest.update(f"{name}\0missing\n".encode())
        else:
            digest.update(f"{name}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()


@dataclass
class _Problems:
    lines: list[str] = field(default_factory=list)

    def add(self, file: str, path: str, problem: str) -> None:
        self.lines.append(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Table:
    """Typed access to one TOML table; problems go to a shared collector."""

    def __init__(self, data: Mapping[str, Any], file: str, prefix: str, problems: _Problems):
        self.data = data
        self.file = file
        self.prefix = prefix
        self.problems = problems

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def problem(self, key: str, message: str) -> None:
        self.problems.add(self.file, self.path(key), message)

    def check_keys(self, allowed: frozenset[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.problem(key, "unknown key")

    def has(self, key: str) -> bool:
        return key in self.data

    def string(self, key: str, *, required: bool = False, default: str = "") -> str | None:
        """A non-empty string; None when missing (and required) or invalid."""
        if key not in self.data:
            if required:
                self.problem(key, "missing required key")
                return None
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.problem(key, f"must be a string, not {_type_name(value)}")
            return None
        if required and not value.strip():
            self.problem(key, "must not be empty")
            return None
        return value

    def url(self, key: str, *, required: bool = True) -> str | None:
        value = self.string(key, required=required)
        if value is None or (not required and value == ""):
            return value
        if not is_http_url(value):
            self.problem(key, f"not an absolute http(s) URL: {value!r}")
            return None
        return value

    def slug(self, key: str) -> str | None:
        value = self.string(key, required=True)
        if value is None:
            return None
        if not is_slug(value):
            self.problem(
                key, f"not a slug (up to 100 lower-case letters, digits, '.', '_', '-'): {value!r}"
            )
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false, not {_type_name(value)}")
            return None
        return value

    def integer(
        self, key: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be an integer, not {_type_name(value)}")
            return None
        if value < minimum or (maximum is not None and value > maximum):
            if maximum is not None:
                self.problem(key, f"must be between {minimum} and {maximum}, not {value}")
            elif minimum == 1:
                self.problem(key, f"must be a positive integer, not {value}")
            else:
                self.problem(key, f"must be at least {minimum}, not {value}")
            return None
        return value

    def positive_number(self, key: str, default: float, *, zero: bool = False) -> float | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not (value >= 0 if zero else value > 0)
        ):
            self.problem(
                key, "must be zero or a positive number" if zero else "must be a positive number"
            )
            return None
        if value == float("inf"):
            self.problem(key, "must be a finite number")
            return None
        return float(value)

    def duration(
        self, key: str, default: timedelta | None, *, minimum: timedelta | None = None
    ) -> timedelta | None:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.problem(key, f"must be a duration string such as '15m', not {_type_name(value)}")
            return None
        try:
            parsed = parse_duration(value)
        except ValueError as e:
            self.problem(key, str(e))
            return None
        if minimum is not None and parsed < minimum:
            self.problem(key, f"must be at least {_format_duration(minimum)}: {value!r}")
            return None
        return parsed

    def strings(self, key: str, *, what: str = "strings") -> tuple[str, ...] | None:
        """A list of non-empty strings, de-duplicated in order; () when missing."""
        if key not in self.data:
            return ()
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(key, f"must be a list of non-empty {what}")
            return None
        return tuple(dict.fromkeys(value))


def _format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def _read_toml(config_dir: Path, name: str, problems: _Problems) -> dict[str, Any] | None:
    path = config_dir / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        problems.add(name, "", "missing file")
        return None
    except OSError as e:
        problems.add(name, "", f"cannot read: {e.strerror or e}")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.add(name, "", f"not valid UTF-8 (byte {e.start})")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        match = _TOML_POSITION_RE.match(message)
        if match:
            where = f"line {match['line']}, column {match['col']}"
            message = match["msg"]
        else:
            lines = text.splitlines() or [""]
            where = f"line {len(lines)}, column {len(lines[-1]) + 1}"
            end = _TOML_END_RE.match(message)
            if end:
                message = end["msg"]
        problems.add(name, where, message)
        return None


# --------------------------------------------------------------------------- site.toml


def _load_site(
    data: Mapping[str, Any] | None,
    config_dir: Path,
    environ: Mapping[str, str],
    problems: _Problems,
) -> Site | None:
    env_base_url = environ.get("FEEDS_BASE_URL", "").strip()
    if env_base_url and not is_http_url(env_base_url):
        problems.add(
            "environment", "FEEDS_BASE_URL", f"not an absolute http(s) URL: {env_base_url!r}"
        )
        env_base_url = ""
    private_env = environ.get("FEEDS_ALLOW_PRIVATE_ADDRESSES", "").strip().lower()
    force_private = private_env in _TRUE_WORDS
    if private_env not in _TRUE_WORDS | _FALSE_WORDS:
        problems.add(
            "environment",
            "FEEDS_ALLOW_PRIVATE_ADDRESSES",
            f"expected 1, true, yes, 0, false or no: {private_env!r}",
        )
    if data is None:
        return None

    before = len(problems.lines)
    site = _Table(data, SITE_FILE, "", problems)
    site.check_keys(SITE_KEYS)
    title = site.string("title", required=True)
    link = site.url("link")
    if env_base_url:
        base_url: str | None = env_base_url
        if site.has("base_url"):
            site.url("base_url")  # still validate what the file says
    else:
        base_url = site.url("base_url")
    description = site.string("description", required=True)
    language = site.string("language", required=True)
    if language is not None and not LANGUAGE_RE.match(language):
        site.problem("language", f"not a language tag such as 'en' or 'ar-LB': {language!r}")
        language = None
    copyright_ = site.string("copyright", default="")
    articles_interval = site.duration(
        "articles_interval", parse_duration(DEFAULT_ARTICLES_INTERVAL)
    )

    articles_dir: Path | None = None
    articles = site.string("articles", required=True)
    if articles is not None:
        articles_dir = (config_dir / Path(articles).expanduser()).resolve()
        if not articles_dir.is_dir():
            site.problem("articles", f"directory not found: {articles_dir}")
            articles_dir = None

    hub = site.url("hub", required=False)
    icon = site.url("icon", required=False)
    logo = site.url("logo", required=False)
    archive_page_size = site.integer(
        "archive_page_size", Site.archive_page_size, minimum=10, maximum=1000
    )

    fetch = _load_fetch(data.get("fetch", {}), base_url, force_private, problems)

    if len(problems.lines) > before:
        return None
    assert title is not None and link is not None and base_url is not None
    assert description is not None and language is not None and copyright_ is not None
    assert articles_dir is not None and articles_interval is not None and fetch is not None
    assert hub is not None and icon is not None and logo is not None
    assert archive_page_size is not None
    return Site(
        title=title,
        link=link,
        base_url=base_url.rstrip("/"),
        description=description,
        language=language,
        articles_dir=articles_dir,
        fetch=fetch,
        copyright=copyright_,
        articles_interval=articles_interval,
        hub=hub,
        icon=icon,
        logo=logo,
        archive_page_size=archive_page_size,
    )


def _load_fetch(
    data: object, base_url: str | None, force_private: bool, problems: _Problems
) -> FetchSettings | None:
    if not isinstance(data, dict):
        problems.add(SITE_FILE, "fetch", f"must be a table, not {_type_name(data)}")
        return None
    before = len(problems.lines)
    defaults = FetchSettings()
    fetch = _Table(data, SITE_FILE, "fetch", problems)
    fetch.check_keys(FETCH_KEYS)
    default_agent = f"feeds/{__version__} (+{(base_url or '').rstrip('/')})"
    user_agent = fetch.string("user_agent", default=default_agent)
    if user_agent is not None and not user_agent.strip():
        fetch.problem("user_agent", "must not be empty")
    deadline = fetch.positive_number("deadline", defaults.deadline)
    max_bytes = fetch.integer("max_bytes", defaults.max_bytes, minimum=1)
    concurrency = fetch.integer("concurrency", defaults.concurrency, minimum=1, maximum=256)
    max_redirects = fetch.integer("max_redirects", defaults.max_redirects, minimum=0, maximum=30)
    allow_private = fetch.boolean("allow_private_addresses", defaults.allow_private_addresses)
    per_host = fetch.integer("per_host", defaults.per_host, minimum=1, maximum=64)
    host_spacing = fetch.positive_number("host_spacing", defaults.host_spacing, zero=True)
    if len(problems.lines) > before:
        return None
    assert per_host is not None and host_spacing is not None
    assert user_agent is not None and deadline is not None and max_bytes is not None
    assert concurrency is not None and max_redirects is not None and allow_private is not None
    return FetchSettings(
        user_agent=user_agent.strip(),
        deadline=deadline,
        max_bytes=max_bytes,
        concurrency=concurrency,
        max_redirects=max_redirects,
        allow_private_addresses=allow_private or force_private,
        per_host=per_host,
        host_spacing=host_spacing,
    )


# --------------------------------------------------------------------------- sources.toml


def _array_of_tables(
    data: Mapping[str, Any], file: str, key: str, top_keys: frozenset[str], problems: _Problems
) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``[[key]]`` tables of a file, each with its key path label."""
    for top in data:
        if top not in top_keys:
            problems.add(file, top, "unknown key")
    tables = data.get(key, [])
    if not isinstance(tables, list):
        problems.add(file, key, f"must be an array of tables ([[{key}]]), not {_type_name(tables)}")
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    id_key = "id" if key == "source" else "name"
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            problems.add(file, f"{key}[{index}]", f"must be a table, not {_type_name(table)}")
            continue
        ident = table.get(id_key)
        label = f"{key}[{ident}]" if isinstance(ident, str) and ident.strip() else f"{key}[{index}]"
        out.append((label, table))
    return out


def _load_sources(
    data: Mapping[str, Any] | None, problems: _Problems
) -> tuple[list[Source], dict[str, set[str]] | None]:
    """The valid sources, and every id with its tags (for checking feeds.toml) if readable."""
    if data is None:
        return [], None
    sources: list[Source] = []
    known: dict[str, set[str]] = {}
    for label, raw in _array_of_tables(data, SOURCES_FILE, "source", SOURCES_TOP_KEYS, problems):
        before = len(problems.lines)
        table = _Table(raw, SOURCES_FILE, label, problems)
        table.check_keys(SOURCE_KEYS)
        source_id = table.slug("id")
        url = table.url("url")
        title = table.string("title", required=True)
        tags = table.strings("tags", what="strings (tags)")
        interval = table.duration("interval", Source.interval, minimum=MIN_SOURCE_INTERVAL)
        enabled = table.boolean("enabled", True)
        max_items = table.integer("max_items", Source.max_items, minimum=1, maximum=100_000)
        max_age = table.duration("max_age", None, minimum=timedelta(hours=1))
        raw_id = raw.get("id")
        if isinstance(raw_id, str):
            if raw_id in known:
                table.problem("id", f"duplicate source id {raw_id!r}")
                continue
            raw_tags = raw.get("tags")
            known[raw_id] = (
                {t for t in raw_tags if isinstance(t, str)} if isinstance(raw_tags, list) else set()
            )
        if len(problems.lines) > before:
            continue
        assert source_id is not None and url is not None and title is not None
        assert tags is not None and interval is not None and enabled is not None
        assert max_items is not None
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
            )
        )
    return sources, known


# --------------------------------------------------------------------------- feeds.toml


def _load_feeds(
    data: Mapping[str, Any] | None, known: dict[str, set[str]] | None, problems: _Problems
) -> list[FeedSpec]:
    if data is None:
        return []
    feeds: list[FeedSpec] = []
    names: set[str] = set()
    all_tags = set().union(*known.values()) if known else set()
    for label, raw in _array_of_tables(data, FEEDS_FILE, "feed", FEEDS_TOP_KEYS, problems):
        before = len(problems.lines)
        table = _Table(raw, FEEDS_FILE, label, problems)
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
        local = _feed_local(table)
        selectors = _feed_sources(table, known, all_tags)
        limit = table.integer(
            "limit", FeedSpec.limit, minimum=LIMIT_RANGE[0], maximum=LIMIT_RANGE[1]
        )
        include = _feed_patterns(table, "include")
        exclude = _feed_patterns(table, "exclude")
        max_age = table.duration("max_age", None)
        content = _feed_content(table)
        if local is False and selectors == ():
            problems.add(FEEDS_FILE, label, "selects nothing: set local and/or sources")
        if len(problems.lines) > before:
            continue
        assert name is not None and title is not None and description is not None
        assert local is not None and selectors is not None and limit is not None
        assert include is not None and exclude is not None and content is not None
        feeds.append(
            FeedSpec(
                name=name,
                title=title,
                description=description,
                local=local,
                sources=selectors,
                limit=limit,
                include=include,
                exclude=exclude,
                max_age=max_age,
                content=content,
            )
        )
    return feeds


def _feed_local(table: _Table) -> bool | tuple[str, ...] | None:
    if not table.has("local"):
        return False
    value = table.data["local"]
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(dict.fromkeys(value))
    table.problem("local", "must be true, false or a non-empty list of tags")
    return None


def _feed_sources(
    table: _Table, known: dict[str, set[str]] | None, all_tags: set[str]
) -> tuple[str, ...] | None:
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


def _feed_patterns(table: _Table, key: str) -> tuple[str, ...] | None:
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


def _feed_content(table: _Table) -> ContentMode | None:
    value = table.string("content", default=ContentMode.FULL.value)
    if value is None:
        return None
    try:
        return ContentMode(value)
    except ValueError:
        choices = " or ".join(repr(m.value) for m in ContentMode)
        table.problem("content", f"must be {choices}, not {value!r}")
        return None


# --------------------------------------------------------------------------- entry point


def load_config(config_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load site.toml, sources.toml and feeds.toml from ``config_dir``.

    Raises :class:`ConfigError` listing every problem found, one
    ``FILE: key path: problem`` line each.
    """
    env = os.environ if environ is None else environ
    problems = _Problems()
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError([f"{config_dir}: directory not found"])
    site_data = _read_toml(config_dir, SITE_FILE, problems)
    sources_data = _read_toml(config_dir, SOURCES_FILE, problems)
    feeds_data = _read_toml(config_dir, FEEDS_FILE, problems)

    site = _load_site(site_data, config_dir, env, problems)
    sources, known = _load_sources(sources_data, problems)
    feeds = _load_feeds(feeds_data, known, problems)

    if problems.lines or site is None:
        raise ConfigError(problems.lines)
    return Config(site=site, sources=tuple(sources), feeds=tuple(feeds))
