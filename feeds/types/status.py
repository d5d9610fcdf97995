"""What the clock tells the editors' /status through the store: its heartbeats, and the
problems it found (bad article files)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

HEARTBEAT_SECONDS = 5  # how often each clock process writes its heartbeat
# A clock whose last heartbeat is older than this is taken for stopped (or hung).
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)
# A clock's row is removed this long after its last heartbeat (a process that died
# without removing it).
FORGET_AFTER = timedelta(days=1)
ARTICLE_PROBLEMS = "articles"  # the scope of the article files' problems in the store


@dataclass(frozen=True)
class ClockBeat:
    """A clock process's row: who it is, when it started, its last heartbeat, and whether
    it is the active clock (the one that fetches and publishes) or a standby."""

    id: str
    host: str
    pid: int
    started: datetime
    heartbeat: datetime
    active: bool

    def age(self, now: datetime) -> timedelta:
        """How long ago its last heartbeat was (never negative)."""
        return max(now - self.heartbeat, timedelta(0))

    def stale(self, now: datetime) -> bool:
        return self.age(now) > STALE_AFTER


@dataclass(frozen=True)
class Problem:
    """One problem an editor can fix: the file, the key in it ("" when the problem is the
    whole file's), what is wrong, and since when it has been seen (None: not stored)."""

    file: str
    key: str
    message: str
    since: datetime | None = None

    def __str__(self) -> str:
        return ": ".join(part for part in (self.file, self.key, self.message) if part)


@dataclass(frozen=True)
class ProblemChanges:
    """What storing the current problems of a scope changed: those that appeared (or whose
    message changed) and those that are gone (fixed)."""

    appeared: tuple[Problem, ...] = ()
    fixed: tuple[Problem, ...] = ()


# A key as the config and article loaders name them: `limit`, `feed[wires].sources`,
# `image.url`, `front matter`.
_KEY = r"(?:front matter|[\w.\-]+(?:\[[^\]:;]*\][\w.\-]*)*)"
_KEY_AND_MESSAGE = re.compile(rf"({_KEY}): (.*)", re.DOTALL)
_NEXT_KEY = re.compile(rf"; (?={_KEY}: )")


def split_problems(text: str, files: Iterable[str] = ()) -> list[Problem]:
    """A loader's ``FILE: key: problem[; key: problem]`` line as Problems, one per key (the
    messages of one key joined by "; "). ``files`` are the file names the line may start
    with (they may hold ": "); otherwise the file is what comes before the first ": "."""
    file, rest = "", text
    for name in sorted(files, key=len, reverse=True):
        if text.startswith(f"{name}: "):
            file, rest = name, text[len(name) + 2 :]
            break
    else:
        if ": " in text:
            file, rest = text.split(": ", 1)
    messages: dict[str, list[str]] = {}
    for part in _NEXT_KEY.split(rest):
        found = _KEY_AND_MESSAGE.fullmatch(part)
        key, message = (found.group(1), found.group(2)) if found else ("", part)
        messages.setdefault(key, []).append(message)
    return [Problem(file, key, "; ".join(texts)) for key, texts in messages.items()]
