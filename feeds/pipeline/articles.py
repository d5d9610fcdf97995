"""Bringing the stored local articles in line with the article files."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from feeds import articles as local_articles
from feeds.store import Store
from feeds.types import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleSync:
    count: int
    added: int
    updated: int
    removed: int
    problems: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def sync_articles(site: Site, store: Store, lock: AbstractContextManager[Any]) -> ArticleSync:
    """Store the articles of the files. A file that exists but is invalid right now keeps its
    last good version published (an editor's half-saved file never pulls a story); a missing
    directory (an unmounted volume) changes nothing. The files are read first; ``lock`` is
    held only while the store is written (a publish must not fall between its read of the
    articles and its write)."""
    paths = local_articles.article_files(site)
    found, problems = local_articles.load_articles(site, paths)
    for problem in problems:
        log.warning("article skipped: %s", problem)
    if not site.articles_dir.is_dir():
        return ArticleSync(0, 0, 0, 0, tuple(problems))
    files = {local_articles.relative_path(p, site) for p in paths}
    unreadable = files - {a.path for a in found}
    with lock:
        added, updated, removed = store.sync_articles(found, unreadable)
    return ArticleSync(len(found), added, updated, removed, tuple(problems))
