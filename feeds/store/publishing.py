"""What a publish reads besides entries and articles, in one statement: the sources that
moved (how items credit them), the feed's archive pages and the ETags of its current
documents (what the publish compares its rendering with)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from feeds.store.documents import CURRENT
from feeds.store.engine import Database
from feeds.store.schema import archive_pages, documents, sources
from feeds.types import ArchivePage


@dataclass(frozen=True)
class PublishState:
    """``moved``: as ``moved_urls``; ``pages``: as ``archive_pages``; ``etags``: as
    ``current_etags``."""

    moved: dict[str, str]
    pages: list[ArchivePage]
    etags: dict[tuple[str, str], str]


class PublishingMixin(Database):
    """The publish's one read of its feed's state."""

    def publish_state(self, feed: str) -> PublishState:
        """``moved_urls``, ``archive_pages`` and ``current_etags`` of ``feed`` in one
        statement (one round trip where the database is a server)."""
        text, number, flag = sa.String, sa.Integer, sa.Boolean

        def nothing(kind: Any) -> sa.ColumnElement[Any]:
            return sa.cast(sa.null(), kind)

        moved = sa.select(
            sa.literal("m").label("kind"),
            sources.c.id.label("a"),
            sources.c.moved_to.label("b"),
            nothing(text).label("c"),
            nothing(number).label("n1"),
            nothing(number).label("n2"),
            nothing(number).label("n3"),
            nothing(flag).label("flag"),
        ).where(sources.c.moved_to.is_not(None))
        pages = sa.select(
            sa.literal("p"),
            nothing(text),
            nothing(text),
            nothing(text),
            archive_pages.c.number,
            archive_pages.c.first_seq,
            archive_pages.c.last_seq,
            archive_pages.c.stale,
        ).where(archive_pages.c.feed == feed)
        etags = sa.select(
            sa.literal("d"),
            documents.c.variant,
            documents.c.format,
            documents.c.etag,
            nothing(number),
            nothing(number),
            nothing(number),
            nothing(flag),
        ).where(documents.c.feed == feed, documents.c.page == CURRENT)
        state = PublishState({}, [], {})
        with self._read() as conn:
            for r in conn.execute(sa.union_all(moved, pages, etags)):
                if r.kind == "m":
                    state.moved[r.a] = r.b
                elif r.kind == "p":
                    state.pages.append(ArchivePage(r.n1, r.n2, r.n3, bool(r.flag)))
                else:
                    state.etags[(r.a, r.b)] = r.c
        state.pages.sort()
        return state
