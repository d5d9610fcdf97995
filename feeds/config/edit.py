"""Adding ``[[source]]`` tables to ``sources.toml`` in place: the only tomlkit user.

An editor's file keeps every byte it had: its comments, blank lines, key order and quoting.
The new tables are written by tomlkit (so any title or URL is quoted and escaped right) after
the file's last line, one blank line apart, with the file's own line endings. Before the file
is replaced, the result is read back: its sources must be the old ones followed by exactly the
new ones, and the config loader must find no problem in them that the file did not already
have. The file is replaced atomically (a temporary file renamed over it, with the same
permissions), so a running service never reads half of it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT

from feeds.config.sources import SOURCES_FILE, load_sources
from feeds.config.table import Problems, read_toml
from feeds.errors import ConfigError

__all__ = ["SourcesFile", "add_sources", "read_sources_file"]


@dataclass(frozen=True)
class SourcesFile:
    """``sources.toml`` as read: its text, and the id and URL of each source it holds (an
    unreadable URL as ""; every id counts as taken, even one with other problems)."""

    path: Path
    text: str
    sources: Mapping[str, str]


def read_sources_file(config_dir: Path) -> SourcesFile:
    """Read ``config_dir/sources.toml`` for adding sources to it. Raises :class:`ConfigError`
    (``sources.toml: line L, column C: problem`` and the like) when it cannot be read or
    parsed, or holds its sources in a form tables cannot be added to."""
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError([f"{config_dir}: directory not found"])
    problems = Problems()
    data = read_toml(config_dir, SOURCES_FILE, problems)
    if data is None:
        raise ConfigError(problems.lines)
    path = config_dir / SOURCES_FILE
    text = path.read_bytes().decode("utf-8")  # read_toml checked that it is UTF-8
    tables = data.get("source", [])
    try:
        written = tomlkit.parse(text).get("source")
    except TOMLKitError as e:  # tomllib read it: tomlkit should too
        raise ConfigError([f"{SOURCES_FILE}: cannot be edited in place: {e}"]) from e
    if written is not None and not isinstance(written, AoT):
        raise ConfigError(
            [
                f"{SOURCES_FILE}: source: must be [[source]] tables to add sources to, "
                "not source = […]"
            ]
        )
    sources: dict[str, str] = {}
    for table in tables if isinstance(tables, list) else []:
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            url = table.get("url")
            sources[table["id"]] = url if isinstance(url, str) else ""
    return SourcesFile(path, text, sources)


def add_sources(
    file: SourcesFile,
    tables: Sequence[Mapping[str, Any]],
    *,
    comment: str = "",
    write: bool = True,
) -> str:
    """Append ``tables`` (each a new source's keys and values, in the order to write them) to
    ``file``, with ``comment`` as a comment line above them; return the new text. With
    ``write=False`` the file is left alone (a dry run). Raises :class:`ConfigError` when the
    result would not be what was asked (see the module docstring) or cannot be written."""
    if not tables:
        return file.text
    text = file.text
    newline = "\r\n" if "\r\n" in text else "\n"
    if not text.strip() or text.endswith(("\n\n", "\r\n\r\n")):
        separator = ""
    elif text.endswith("\n"):
        separator = "\n"
    else:
        separator = "\n\n"
    new_text = text + (separator + _render(tables, comment)).replace("\n", newline)
    _verify(text, new_text, tables)
    if write:
        _replace(file.path, new_text)
    return new_text


def _render(tables: Sequence[Mapping[str, Any]], comment: str) -> str:
    document = tomlkit.document()
    if comment:
        document.add(tomlkit.comment(" ".join(comment.split())))
    array = tomlkit.aot()
    for values in tables:
        table = tomlkit.table()
        for key, value in values.items():
            table.add(key, value)
        array.append(table)
    document.append("source", array)
    return tomlkit.dumps(document)


def _verify(old_text: str, new_text: str, tables: Sequence[Mapping[str, Any]]) -> None:
    before = tomllib.loads(old_text)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{SOURCES_FILE}: the sources cannot be added to it: {e}"]) from e
    expected = [*before.get("source", []), *(dict(t) for t in tables)]
    if after.get("source") != expected or set(after) != set(before) | {"source"}:
        raise ConfigError(
            [f"{SOURCES_FILE}: the sources cannot be added after what the file ends with"]
        )
    old_problems, new_problems = Problems(), Problems()
    load_sources(before, old_problems)
    load_sources(after, new_problems)
    added = [line for line in new_problems.lines if line not in old_problems.lines]
    if added:
        raise ConfigError(added)


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = path.stat().st_mode & 0o7777
        temporary.write_bytes(text.encode("utf-8"))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as e:
        temporary.unlink(missing_ok=True)
        raise ConfigError([f"{SOURCES_FILE}: cannot write: {e.strerror or e}"]) from e
