"""Reading an article file within limits, and its YAML front matter without aliases.

This is the only module that uses PyYAML. An article file is read only when it is a regular
file inside the articles directory (a symbolic link may lead to one; never outside it, and
never to a FIFO or a device, which are not opened at all), and only when it is at most the
site's ``articles_max_bytes``: a larger file is refused from its size, and no more than the
limit and one byte is ever read from it. The front matter is parsed by PyYAML's safe loader,
except that anchors (``&name``) and aliases (``*name``) are refused: front matter never needs
them, and a few aliases of aliases (a "billion laughs") make a value of billions of items
from a file of a kilobyte.

Problems are raised as :class:`FileProblem`, whose message names no file (the caller does)
and quotes nothing of the file beyond a few dozen characters.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from feeds.errors import FeedsError
from feeds.text import clip

MAX_BYTES_KEY = "articles_max_bytes"  # the site.toml key of the limit, named in its problem
_DETAIL_LENGTH = 120  # what a message keeps of a parser's own explanation
# Opening flags: never wait on a FIFO swapped in after the check, never follow a link then.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
)


class FileProblem(FeedsError):
    """Why one article file cannot be read; the message is the problem alone."""


# --------------------------------------------------------------------------- the file


def read_article_file(path: Path, root: Path, max_bytes: int) -> str:
    """The text of the article file ``path`` under the articles directory ``root`` (UTF-8, a
    byte-order mark dropped), read only when it is a regular file whose real path is inside
    ``root`` and holds at most ``max_bytes`` bytes. Raises FileProblem."""
    try:
        real = path.resolve(strict=True)
        inside = root.resolve(strict=True)
    except FileNotFoundError as e:
        if path.is_symlink():
            raise FileProblem("a symbolic link to a file that does not exist") from e
        raise FileProblem(f"cannot read: {e.strerror or e}") from e
    except RuntimeError as e:  # a loop of symbolic links (Python 3.11 raises RuntimeError)
        raise FileProblem("a loop of symbolic links") from e
    except OSError as e:
        raise FileProblem(f"cannot read: {e.strerror or e}") from e
    if not real.is_relative_to(inside):
        raise FileProblem(
            "a symbolic link to a file outside the articles directory, which is not read"
        )
    try:
        info = os.stat(real)
        _check_kind_and_size(info, max_bytes)
        fd = os.open(real, _OPEN_FLAGS)
        with open(fd, "rb") as file:
            opened = _opened_path(file.fileno())  # a directory on the way swapped for a link
            if opened is not None and not opened.is_relative_to(inside):
                raise FileProblem("a file outside the articles directory, which is not read")
            info = os.fstat(file.fileno())  # what was opened, should it have been swapped
            _check_kind_and_size(info, max_bytes)
            data = file.read(max_bytes + 1)
            if len(data) > max_bytes:  # it grew since: the limit holds all the same
                _check_kind_and_size(os.fstat(file.fileno()), max_bytes, at_least=len(data))
    except OSError as e:
        raise FileProblem(f"cannot read: {e.strerror or e}") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise FileProblem(f"not valid UTF-8 (byte {e.start})") from e


def _opened_path(fd: int) -> Path | None:
    """Where the file open as ``fd`` really is (Linux: its /proc link), None where the system
    does not say. O_NOFOLLOW guards only the last part of a path: this catches a directory
    on the way replaced by a symbolic link between the check of the path and the opening."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


def _check_kind_and_size(info: os.stat_result, max_bytes: int, at_least: int = 0) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise FileProblem(f"not a regular file but {_kind(info.st_mode)}, which is not read")
    size = max(info.st_size, at_least)
    if size > max_bytes:
        raise FileProblem(over_limit(size, max_bytes))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def over_limit(size: int, max_bytes: int) -> str:
    """The problem of an article of ``size`` bytes over the limit: ``5.2 MB, over the 1 MB
    limit (articles_max_bytes)`` (in bytes when the rounded sizes would look equal)."""
    shown, limit = byte_size(size), byte_size(max_bytes)
    if shown == limit:
        shown, limit = f"{size:,} bytes", f"{max_bytes:,}-byte"
    return f"{shown}, over the {limit} limit ({MAX_BYTES_KEY})"


def byte_size(size: int) -> str:
    """A size for people, in decimal units: ``900 bytes``, ``12.5 kB``, ``1 MB``, ``5.2 MB``."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            number = f"{size / scale:.1f}".removesuffix(".0")
            return f"{number} {unit}"
    return f"{size} byte" + ("" if size == 1 else "s")


# --------------------------------------------------------------------------- front matter


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases where a node starts."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: object = self.peek_event()  # type: ignore[no-untyped-call]  # stubs: untyped
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            what = "aliases (*name)" if isinstance(event, yaml.AliasEvent) else "anchors (&name)"
            raise FileProblem(f"front matter: YAML {what} are not allowed{_where(event)}")
        return super().compose_node(parent, index)


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    if mark is None:
        return ""
    # +2: one for 1-based numbering, one for the opening '---' line.
    return f" (line {mark.line + 2}, column {mark.column + 1})"


def split_front_matter(text: str) -> tuple[dict[Any, Any], str]:
    """(front matter as a mapping, Markdown body) of an article's text. Raises FileProblem
    for a missing or unclosed front matter, invalid YAML, anchors or aliases, or a document
    that is not a mapping."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FileProblem("front matter: missing (the file must start with a '---' line)")
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            yaml_text = "".join(lines[1:index])
            body = "".join(lines[index + 1 :])
            break
    else:
        raise FileProblem("front matter: no closing '---' line")
    try:
        data = yaml.load(yaml_text, Loader=_NoAliasLoader)  # safe: a SafeLoader
    except yaml.MarkedYAMLError as e:
        where = ""
        if e.problem_mark is not None:
            where = f" at line {e.problem_mark.line + 2}, column {e.problem_mark.column + 1}"
        detail = clip(str(e.problem or e), _DETAIL_LENGTH)
        raise FileProblem(f"front matter: invalid YAML{where}: {detail}") from e
    except yaml.YAMLError as e:
        raise FileProblem(f"front matter: invalid YAML: {clip(str(e), _DETAIL_LENGTH)}") from e
    except (ValueError, RecursionError) as e:
        # PyYAML raises these for impossible timestamps (2026-02-30), integers of thousands
        # of digits and absurd nesting.
        detail = clip(str(e), _DETAIL_LENGTH)
        raise FileProblem(f"front matter: invalid YAML: {detail}") from e
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FileProblem(f"front matter: must be a mapping of keys, not {type(data).__name__}")
    return data, body
