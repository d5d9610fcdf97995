"""Bringing the stored local articles in line with the article files, and keeping the stored
problems of the files (for /status) in line with what the files say now."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feeds import articles as local_articles
from feeds.store import Store
from feeds.types import ARTICLE_PROBLEMS, Problem, ProblemChanges, Site, split_problems

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleSync:
    count: int
    added: int
    updated: int
    removed: int
    problems: tuple[str, ...]  # one "FILE: key: problem[; key: problem]" line per bad file
    appeared: tuple[Problem, ...] = ()  # problems not seen by the previous sync (any process)
    fixed: tuple[Problem, ...] = ()  # problems of the previous sync gone now

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def sync_articles(
    site: Site, store: Store, lock: AbstractContextManager[Any], now: datetime
) -> ArticleSync:
    """Store the articles of the files. A file that exists but is invalid right now keeps its
    last good version published (an editor's half-saved file never pulls a story); a missing
    directory (an unmounted volume) changes nothing. The files are read first; ``lock`` is
    held only while the store is written (a publish must not fall between its read of the
    articles and its write).

    The problems found are stored (one per file and key, see ``split_problems``) and logged
    when they appear and when they are fixed, not at every sync: the stored set is what the
    previous sync, by this process or another, found."""
    paths = local_articles.article_files(site)
    found, problems = local_articles.load_articles(site, paths)
    if found and (taken := store.api_slugs()):  # a slug belongs to a file or the API
        for article in [a for a in found if a.slug in taken]:
            found.remove(article)
            problems.append(
                f"{site.articles_dir / article.path}: slug: {article.slug!r} belongs to an "
                "article pushed through the API (DELETE it there, or rename this one)"
            )
    changes = record_problems(store, problems, [str(site.articles_dir), *map(str, paths)], now)
    if not site.articles_dir.is_dir():
        return ArticleSync(0, 0, 0, 0, tuple(problems), changes.appeared, changes.fixed)
    files = {local_articles.relative_path(p, site) for p in paths}
    unreadable = files - {a.path for a in found}
    with lock:
        added, updated, removed = store.sync_articles(found, unreadable)
    return ArticleSync(
        len(found), added, updated, removed, tuple(problems), changes.appeared, changes.fixed
    )


def record_problems(
    store: Store, lines: Sequence[str], files: Sequence[str], now: datetime
) -> ProblemChanges:
    """Store the problems of the article files now, and log what changed since the stored
    ones: each new problem once (a warning), each fixed one once."""
    current = [p for line in lines for p in split_problems(line, files)]
    changes = store.store_problems(ARTICLE_PROBLEMS, current, now)
    for problem in changes.appeared:
        log.warning("article problem: %s", problem)
    for problem in changes.fixed:
        log.info("article problem fixed: %s", problem)
    return changes
