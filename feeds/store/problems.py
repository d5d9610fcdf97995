"""What the clock found wrong, for the editors' /status: one row per problem of a scope.

Scope "articles" holds the problems of the last articles sync, one per file and key, each
with the time it was first seen. The clock writes them; the web process only reads them (it
never parses article files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from feeds.store import codec
from feeds.store.engine import Database
from feeds.store.schema import problems
from feeds.types import Problem, ProblemChanges

_Key = tuple[str, str]  # file, key (as stored: cut to the columns' sizes)


class ProblemsMixin(Database):
    """Keep each scope's stored problems equal to the current ones."""

    def store_problems(
        self, scope: str, current: Sequence[Problem], now: datetime
    ) -> ProblemChanges:
        """Make the stored problems of `scope` equal to `current`: a new problem (or one
        whose message changed) is stored as seen since `now`, one still there keeps its
        time, one no longer there is removed. Returns what appeared and what was fixed; when
        nothing changed, only reads."""
        wanted = _by_key(current)
        with self._read() as conn:
            if _unchanged(_stored(conn, scope), wanted):
                return ProblemChanges()
        with self._write() as conn:
            stored = _stored(conn, scope)
            fixed = [p for key, p in stored.items() if key not in wanted]
            appeared = [
                p
                for key, p in wanted.items()
                if key not in stored or stored[key].message != p.message
            ]
            for p in [*fixed, *(p for p in appeared if (p.file, p.key) in stored)]:
                conn.execute(problems.delete().where(_row(scope, p.file, p.key)))
            if appeared:
                conn.execute(
                    problems.insert(), [codec.problem_values(scope, p, now) for p in appeared]
                )
        return ProblemChanges(tuple(replace(p, since=now) for p in appeared), tuple(fixed))

    def problems(self, scope: str) -> list[Problem]:
        """The stored problems of `scope`, by file and key."""
        with self._read() as conn:
            return sorted(_stored(conn, scope).values(), key=lambda p: (p.file, p.key))


def _by_key(current: Sequence[Problem]) -> dict[_Key, Problem]:
    """The problems by (file, key) as stored; messages of one key joined."""
    found: dict[_Key, Problem] = {}
    for p in current:
        key = (p.file[:500], p.key[:200])
        if key in found:
            p = Problem(key[0], key[1], f"{found[key].message}; {p.message}")
        found[key] = Problem(key[0], key[1], p.message)
    return found


def _stored(conn: Connection, scope: str) -> dict[_Key, Problem]:
    rows = conn.execute(sa.select(problems).where(problems.c.scope == scope))
    return {(r.file, r.key): codec.problem_from_row(r) for r in rows}


def _unchanged(stored: dict[_Key, Problem], wanted: dict[_Key, Problem]) -> bool:
    return stored.keys() == wanted.keys() and all(
        stored[k].message == wanted[k].message for k in wanted
    )


def _row(scope: str, file: str, key: str) -> sa.ColumnElement[bool]:
    return (problems.c.scope == scope) & (problems.c.file == file) & (problems.c.key == key)
