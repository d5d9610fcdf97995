"""Reading config files into typed tables, every problem collected rather than raised.

:class:`Problems` gathers ``FILE: key path: problem`` lines; :func:`read_toml` turns one file
into a mapping (or a problem with its line and column); :class:`Table` reads typed, defaulted,
validated values out of one TOML table, reporting each bad key to the shared
:class:`Problems` and returning ``None`` for it so that a loader can go on and find the rest.
"""

from __future__ import annotations

import difflib
import enum
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from feeds.config.values import format_duration, is_http_url, is_slug, parse_duration, type_name

_Choice = TypeVar("_Choice", bound=enum.StrEnum)

_TOML_POSITION_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_END_RE = re.compile(r"^(?P<msg>.*) \(at end of document\)$")


@dataclass
class Problems:
    """Every problem found so far, one ``FILE: key path: problem`` line each, in order.

    A loader notes ``len(problems)`` before reading a table and compares after: any growth
    means the table is invalid and yields no value.
    """

    lines: list[str] = field(default_factory=list)

    def add(self, file: str, path: str, problem: str) -> None:
        """Record a problem; an empty ``path`` concerns the file as a whole."""
        self.lines.append(f"{file}: {path}: {problem}" if path else f"{file}: {problem}")

    def __len__(self) -> int:
        return len(self.lines)


class Table:
    """Typed access to one TOML table; problems go to a shared :class:`Problems`.

    ``prefix`` is the table's key path in problem lines (``""`` at the top of a file,
    ``"fetch"``, ``"source[wires]"``). Each reader returns the value, its default when the key
    is missing, or ``None`` after recording why the value is unusable.
    """

    def __init__(self, data: Mapping[str, Any], file: str, prefix: str, problems: Problems):
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
                self.problem(key, unknown_key(key, allowed))

    def has(self, key: str) -> bool:
        return key in self.data

    def string(self, key: str, *, required: bool = False, default: str = "") -> str | None:
        """A string (non-blank when required); None when missing and required, or invalid."""
        if key not in self.data:
            if required:
                self.problem(key, "missing required key")
                return None
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.problem(key, f"must be a string, not {type_name(value)}")
            return None
        if required and not value.strip():
            self.problem(key, "must not be empty")
            return None
        return value

    def url(self, key: str, *, required: bool = True) -> str | None:
        """An absolute http(s) URL; ``""`` when optional and missing or empty."""
        value = self.string(key, required=required)
        if value is None or (not required and value == ""):
            return value
        if not is_http_url(value):
            self.problem(key, f"not an absolute http(s) URL: {value!r}")
            return None
        return value

    def slug(self, key: str) -> str | None:
        """A required slug (see :func:`~feeds.config.values.is_slug`)."""
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
            self.problem(key, f"must be true or false, not {type_name(value)}")
            return None
        return value

    def integer(
        self, key: str, default: int, *, minimum: int, maximum: int | None = None
    ) -> int | None:
        """An integer (a boolean is not one) within ``minimum`` and ``maximum``, inclusive."""
        if key not in self.data:
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be an integer, not {type_name(value)}")
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
        """A finite number greater than zero (or zero too, with ``zero=True``), as a float."""
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
        """A duration string (see :func:`~feeds.config.values.parse_duration`), at least
        ``minimum`` when given."""
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, str):
            self.problem(key, f"must be a duration string such as '15m', not {type_name(value)}")
            return None
        try:
            parsed = parse_duration(value)
        except ValueError as e:
            self.problem(key, str(e))
            return None
        if minimum is not None and parsed < minimum:
            self.problem(key, f"must be at least {format_duration(minimum)}: {value!r}")
            return None
        return parsed

    def choice(self, key: str, choices: type[_Choice], default: _Choice) -> _Choice | None:
        """One of the values of the string enumeration ``choices``."""
        value = self.string(key, default=default.value)
        if value is None:
            return None
        try:
            return choices(value)
        except ValueError:
            names = [repr(m.value) for m in choices]
            allowed = ", ".join(names[:-1]) + " or " + names[-1]
            self.problem(key, f"must be {allowed}, not {value!r}")
            return None

    def strings(self, key: str, *, what: str = "strings") -> tuple[str, ...] | None:
        """A list of non-empty strings, de-duplicated in order; () when missing."""
        if key not in self.data:
            return ()
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(key, f"must be a list of non-empty {what}")
            return None
        return tuple(dict.fromkeys(value))


def unknown_key(key: str, allowed: Collection[str]) -> str:
    """The problem with a key that is not one of ``allowed``: ``unknown key``, followed by
    the nearest known key when one is close enough to be a typo (``intreval`` → ``did you
    mean 'interval'?``)."""
    nearest = difflib.get_close_matches(key, sorted(allowed), n=1)
    if not nearest:
        nearest = difflib.get_close_matches(key.lower(), sorted(allowed), n=1)
    return f"unknown key; did you mean {nearest[0]!r}?" if nearest else "unknown key"


def read_toml(config_dir: Path, name: str, problems: Problems) -> dict[str, Any] | None:
    """The parsed file ``config_dir / name``, or None after recording why it cannot be read.

    A syntax error is reported at its line and column (the end of the file for an error at the
    end of the document), without tomllib's own position suffix.
    """
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


def array_of_tables(
    data: Mapping[str, Any],
    file: str,
    key: str,
    id_key: str,
    top_keys: frozenset[str],
    problems: Problems,
) -> list[tuple[str, Mapping[str, Any]]]:
    """The ``[[key]]`` tables of a file, each with its key path label.

    A table is labelled by its ``id_key`` value when that is a non-blank string
    (``source[wires]``), else by its 1-based position (``source[3]``). Unknown top-level keys
    and entries that are not tables are problems.
    """
    for top in data:
        if top not in top_keys:
            problems.add(file, top, unknown_key(top, top_keys))
    tables = data.get(key, [])
    if not isinstance(tables, list):
        problems.add(file, key, f"must be an array of tables ([[{key}]]), not {type_name(tables)}")
        return []
    out: list[tuple[str, Mapping[str, Any]]] = []
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            problems.add(file, f"{key}[{index}]", f"must be a table, not {type_name(table)}")
            continue
        ident = table.get(id_key)
        label = f"{key}[{ident}]" if isinstance(ident, str) and ident.strip() else f"{key}[{index}]"
        out.append((label, table))
    return out
