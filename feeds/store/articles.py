"""The outlet's own articles, as last read from their files (or pushed by the CMS)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from feeds.store import codec
from feeds.store.archives import mark_stale
from feeds.store.engine import Database, chunks
from feeds.store.schema import articles, feed_items
from feeds.types import Article


class ArticlesMixin(Database):
    """Keep the stored articles equal to the current ones."""

    def sync_articles(
        self, current: Sequence[Article], unreadable: Iterable[str] = ()
    ) -> tuple[int, int, int]:
        """Make the stored articles equal to `current`. Returns (added, updated, removed).

        `unreadable` are paths of files that exist but are invalid right now (an editor
        mid-edit): the article last stored from such a file stays until the file is fixed
        or deleted. A deleted article also leaves every feed's archive record, and the
        archive pages that held it are marked to be written again.
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
            gone = [s for s in stored.keys() - wanted.keys() if stored[s][1] not in keep_paths]
            links = [
                codec.article_from_row(r).link
                for chunk in chunks(gone, 500)
                for r in conn.execute(sa.select(articles.c.data).where(articles.c.slug.in_(chunk)))
            ]
            for slug in gone:
                conn.execute(articles.delete().where(articles.c.slug == slug))
                removed += 1
            if links:
                mark_stale(conn, links)
                for chunk in chunks(links, 500):
                    conn.execute(feed_items.delete().where(feed_items.c.item_id.in_(chunk)))
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
