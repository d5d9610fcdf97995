"""The outlet's own articles: those read from their files, and those the CMS pushes through
the API (``origin`` "api"), with the record of every API write.

A slug belongs to a file or to the API, never both: a file sync never removes, nor replaces,
an API article; an API write to a slug a file holds is refused (``CONFLICT``). An API article
keeps the fields its client sent (``fields``, in the row's JSON), so that the API can give
them back as sent; the Article built from them is what feeds publish.

Every API write is one transaction: the article and its line in ``api_writes`` change
together. The writes are serialized (see ``engine``): of two PUTs of one slug the last one
wins, whole. The growing id of ``api_writes`` tells a clock that API articles changed
(``api_changes``); a write that changed nothing is recorded as "unchanged" and does not count.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from feeds.store import codec
from feeds.store.archives import mark_stale
from feeds.store.engine import Database, chunks
from feeds.store.schema import api_writes, articles, feed_items
from feeds.types import Article

FILE = "file"
API = "api"


class ApiWrite(enum.StrEnum):
    """What an API write did (the ``action`` of its line in ``api_writes``)."""

    CREATED = "created"
    REPLACED = "replaced"
    UNCHANGED = "unchanged"  # the same fields again: nothing written but this record
    DELETED = "deleted"
    CONFLICT = "conflict"  # a file holds the slug: refused, not recorded
    MISSING = "missing"  # nothing to delete: not recorded


@dataclass(frozen=True)
class ApiArticle:
    """An article pushed through the API: the fields as its client sent them, and the article
    published from them."""

    article: Article
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class ApiWriteRecord:
    id: int
    at: datetime
    client: str
    slug: str
    action: str


class ArticlesMixin(Database):
    """Keep the stored articles equal to the current ones."""

    def sync_articles(
        self, current: Sequence[Article], unreadable: Iterable[str] = ()
    ) -> tuple[int, int, int]:
        """Make the stored file articles equal to `current`. Returns (added, updated, removed).

        `unreadable` are paths of files that exist but are invalid right now (an editor
        mid-edit): the article last stored from such a file stays until the file is fixed
        or deleted. A deleted article also leaves every feed's archive record, and the
        archive pages that held it are marked to be written again. API articles are left
        alone, and a file article whose slug an API article holds is not stored (the sync
        of the files reports it, see ``api_slugs``).
        """
        added = changed = removed = 0
        keep_paths = set(unreadable) - {a.path for a in current}
        with self._write() as conn:
            stored: dict[str, tuple[str, str]] = {}
            taken: set[str] = set()
            for r in conn.execute(
                sa.select(
                    articles.c.slug, articles.c.content_hash, articles.c.path, articles.c.origin
                )
            ):
                if r.origin == API:
                    taken.add(r.slug)
                else:
                    stored[r.slug] = (r.content_hash, r.path)
            wanted = {a.slug: a for a in current if a.slug not in taken}
            gone = [s for s in stored.keys() - wanted.keys() if stored[s][1] not in keep_paths]
            removed = _remove(conn, gone)
            for slug, article in wanted.items():
                values = codec.article_values(article)
                if slug not in stored:
                    conn.execute(articles.insert().values(**values, origin=FILE))
                    added += 1
                elif stored[slug][0] != article.content_hash:
                    conn.execute(articles.update().where(articles.c.slug == slug).values(**values))
                    changed += 1
        return added, changed, removed

    def articles(self) -> list[Article]:
        """Every stored article (from files and the API), newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(articles.c.data).order_by(articles.c.published.desc(), articles.c.slug)
            )
            return [codec.article_from_row(r) for r in rows]

    # ------------------------------------------------------------------ the API's

    def api_slugs(self) -> set[str]:
        """The slugs API articles hold (a file cannot have them)."""
        with self._read() as conn:
            return set(
                conn.execute(sa.select(articles.c.slug).where(articles.c.origin == API)).scalars()
            )

    def put_api_article(
        self, article: Article, fields: Mapping[str, Any], client: str, now: datetime
    ) -> ApiWrite:
        """Store an article a client sent (``fields``, as sent, are kept with it) and record
        the write. CONFLICT (nothing written) when a file holds the slug."""
        values = _api_values(article, fields)
        with self._write() as conn:
            row = conn.execute(
                sa.select(articles.c.origin, articles.c.data).where(articles.c.slug == article.slug)
            ).first()
            if row is None:
                conn.execute(articles.insert().values(**values))
                action = ApiWrite.CREATED
            elif row.origin != API:
                return ApiWrite.CONFLICT
            elif row.data == values["data"]:
                action = ApiWrite.UNCHANGED
            else:
                conn.execute(
                    articles.update().where(articles.c.slug == article.slug).values(**values)
                )
                action = ApiWrite.REPLACED
            _record(conn, now, client, article.slug, action)
            return action

    def delete_api_article(self, slug: str, client: str, now: datetime) -> ApiWrite:
        """Delete an API article (and its place in archives) and record it; MISSING when
        there is none, CONFLICT when a file holds the slug (nothing changes)."""
        with self._write() as conn:
            origin = conn.execute(
                sa.select(articles.c.origin).where(articles.c.slug == slug)
            ).scalar_one_or_none()
            if origin is None:
                return ApiWrite.MISSING
            if origin != API:
                return ApiWrite.CONFLICT
            _remove(conn, [slug])
            _record(conn, now, client, slug, ApiWrite.DELETED)
            return ApiWrite.DELETED

    def api_article(self, slug: str) -> tuple[str, ApiArticle | None] | None:
        """(origin, the API article or None for a file's) of ``slug``; None: no article."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(articles.c.origin, articles.c.data).where(articles.c.slug == slug)
            ).first()
        if row is None:
            return None
        return row.origin, (_api_article(row) if row.origin == API else None)

    def api_articles(self, after: str = "", limit: int = 50) -> list[ApiArticle]:
        """API articles by slug, the first ``limit`` after the slug ``after``."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(articles.c.data)
                .where(articles.c.origin == API, articles.c.slug > after)
                .order_by(articles.c.slug)
                .limit(limit)
            )
            return [_api_article(r) for r in rows]

    def api_changes(self, after: int) -> tuple[int, bool]:
        """(the newest API write's id, whether a write after id ``after`` changed an
        article): a clock's cheap question, asked every second."""
        with self._read() as conn:
            top = int(conn.execute(sa.select(sa.func.max(api_writes.c.id))).scalar() or 0)
            if top <= after:
                return top, False
            changed = conn.execute(
                sa.select(api_writes.c.id)
                .where(api_writes.c.id > after, api_writes.c.action != ApiWrite.UNCHANGED.value)
                .limit(1)
            ).first()
            return top, changed is not None

    def api_write_log(self, limit: int = 100) -> list[ApiWriteRecord]:
        """The newest ``limit`` API writes, newest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(api_writes).order_by(api_writes.c.id.desc()).limit(limit))
            return [ApiWriteRecord(r.id, r.at, r.client, r.slug, r.action) for r in rows]


def _api_values(article: Article, fields: Mapping[str, Any]) -> dict[str, Any]:
    values = codec.article_values(article)
    data = codec.loads(values["data"])
    data["fields"] = dict(fields)
    return {**values, "data": codec.dumps(data), "origin": API}


def _api_article(row: Any) -> ApiArticle:
    fields = codec.loads(row.data).get("fields", {})
    return ApiArticle(codec.article_from_row(row), fields)


def _record(conn: Connection, now: datetime, client: str, slug: str, action: ApiWrite) -> None:
    conn.execute(api_writes.insert().values(at=now, client=client, slug=slug, action=action.value))


def _remove(conn: Connection, slugs: Sequence[str]) -> int:
    """Delete these articles, their items from every feed's archive record, and mark the
    archive pages that held them to be written again."""
    links = [
        codec.article_from_row(r).link
        for chunk in chunks(slugs, 500)
        for r in conn.execute(sa.select(articles.c.data).where(articles.c.slug.in_(chunk)))
    ]
    for chunk in chunks(slugs, 500):
        conn.execute(articles.delete().where(articles.c.slug.in_(chunk)))
    if links:
        mark_stale(conn, links)
        for chunk in chunks(links, 500):
            conn.execute(feed_items.delete().where(feed_items.c.item_id.in_(chunk)))
    return len(slugs)
