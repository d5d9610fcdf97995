"""Checks and parsers for single config values: durations, URLs, slugs, language tags.

Pure functions of their argument (stdlib only). The config loaders use them, and so does
:mod:`feeds.articles` for the same kinds of value in an article's front matter, so a slug, a URL
or a language tag is held to one rule wherever an editor writes it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

SLUG_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}\Z")  # at most 100 characters
LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")

_DURATION_RE = re.compile(
    r"(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?\Z"
)
_TYPE_NAMES: dict[type, str] = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "a table",
}


def parse_duration(text: str) -> timedelta:
    """Parse ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"``, ``"1w"`` or combinations like ``"1h30m"``.

    Units must appear largest first, each at most once. Zero is refused. Raises
    :class:`ValueError` with a message fit for an editor.
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


def format_duration(value: timedelta) -> str:
    """The shortest duration string for whole seconds, largest unit first (``"1h30m"``)."""
    seconds = int(value.total_seconds())
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


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
    """Up to 100 lower-case letters, digits, ``.``, ``_`` and ``-``, starting with a letter or
    digit: what source ids, feed names and article slugs may be (they appear in URLs)."""
    return isinstance(value, str) and SLUG_RE.match(value) is not None


def type_name(value: object) -> str:
    """How a problem message names the TOML type of ``value`` (``"an integer"``)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)
