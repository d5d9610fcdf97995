"""The outlet's own articles, as last read from their files (or pushed by the CMS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from feeds.store import codec
from feeds.store.engine import Database
from feeds.store.schema import articles
from feeds.types import Article


class ArticlesMixin(Database):
    """Keep the stored articles equal to the current ones."""

    def sync_articles(
        self, current: Sequence[Article], unreadable: Iterable[str] = ()
    ) -> tuple[int, int, int]:
        """Make the stored articles equal to `current`. Returns (added, updated, removed).

        `unreadable` are paths of files that exist but are invalid right now (an editor
        mid-edit): the article last stored from such a file stays until the file is fixed
        or deleted.
        """
        added = changed = removed = 0
        keep_paths = set(unreadable) - {a.path for a in current}
        with self._write() as conn:
            stored = {
                r.slug: (r.content_hash, r.path)
                for r in conn.execute(
                    sa.select(articles.c.slug, articles.c.content_hash, articles.c.path)
                )
            }
            wanted = {a.slug: a for a in current}
            for slug in stored.keys() - wanted.keys():
                if stored[slug][1] in keep_paths:
                    continue
                conn.execute(articles.delete().where(articles.c.slug == slug))
                removed += 1
            for slug, article in wanted.items():
                values = codec.article_values(article)
                if slug not in stored:
                    conn.execute(articles.insert().values(**values))
                    added += 1
                elif stored[slug][0] != article.content_hash:
                    conn.execute(articles.update().where(articles.c.slug == slug).values(**values))
                    changed += 1
        return added, changed, removed

    def articles(self) -> list[Article]:
        """Every stored article, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(articles.c.data).order_by(articles.c.published.desc(), articles.c.slug)
            )
            return [codec.article_from_row(r) for r in rows]
