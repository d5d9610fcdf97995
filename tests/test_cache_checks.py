"""The web cache's checks against the database, shared by concurrent requests
(feeds/web/cache.py): a request is answered from a query that started after it arrived,
never one already under way, and the requests waiting meanwhile share one query."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from feeds.errors import StoreError
from feeds.store import Store
from feeds.types import Document, Format
from feeds.web.cache import DocumentCache
from tests.conftest import postgres_schema


def document(etag: str) -> Document:
    body = f"<rss version='2.0'><!-- {etag} --></rss>".encode()
    return Document("f", Format.RSS, body, b"", etag, datetime.now(UTC), "application/rss+xml")


class SlowDatabase:
    """A store whose ETag queries (like PostgreSQL's: no change counter) each wait for the
    test to let them answer, reporting what was stored when they started."""

    def __init__(self) -> None:
        self.stored = document('"1"')
        self.queries: list[threading.Event] = []  # one per query made, set to let it answer
        self.started = threading.Semaphore(0)
        self.fail: Exception | None = None

    def change_counter(self) -> None:
        return None

    def current_etag(self, feed: str, fmt: str, page: int = 0, variant: str = "") -> str:
        seen, answer = self.stored.etag, threading.Event()
        self.queries.append(answer)
        self.started.release()
        assert answer.wait(10)
        if self.fail is not None:
            raise self.fail
        return seen

    def get_document(self, feed: str, fmt: Format, page: int = 0, variant: str = "") -> Document:
        return self.stored


def reading(cache: DocumentCache, results: list[Any]) -> threading.Thread:
    def read() -> None:
        try:
            results.append(cache.get("f", Format.RSS))
        except Exception as e:
            results.append(e)

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_requests_arriving_during_a_check_share_the_next_one() -> None:
    database = SlowDatabase()
    cache = DocumentCache(database)  # type: ignore[arg-type]
    assert cache.get("f", Format.RSS) is database.stored  # loaded: nothing to check yet
    first: list[Any] = []
    thread = reading(cache, first)
    assert database.started.acquire(timeout=10)  # its query runs ...
    database.stored = document('"2"')  # ... a new version is committed meanwhile ...
    later: list[Any] = []
    threads = [reading(cache, later) for _ in range(5)]  # ... and five more requests come
    time.sleep(0.3)
    assert len(database.queries) == 1  # they wait: none of them queries now
    database.queries[0].set()
    thread.join(10)
    assert [d.etag for d in first] == ['"1"']  # the version current when it arrived
    assert database.started.acquire(timeout=10)
    assert len(database.queries) == 2  # one query for the five, started after they came
    database.queries[1].set()
    for t in threads:
        t.join(10)
    assert [d.etag for d in later] == ['"2"'] * 5  # none got the answer of the older query
    time.sleep(0.1)
    assert len(database.queries) == 2


def test_a_failed_check_fails_its_waiters_and_the_next_check_is_made_afresh() -> None:
    database = SlowDatabase()
    cache = DocumentCache(database)  # type: ignore[arg-type]
    cache.get("f", Format.RSS)
    first: list[Any] = []
    thread = reading(cache, first)
    assert database.started.acquire(timeout=10)
    waiting: list[Any] = []
    threads = [reading(cache, waiting) for _ in range(3)]
    time.sleep(0.3)
    database.fail = StoreError("database read failed: connection lost")
    database.queries[0].set()
    thread.join(10)
    assert database.started.acquire(timeout=10)  # the waiters' own query ...
    database.queries[1].set()  # ... fails too
    for t in threads:
        t.join(10)
    assert [str(e) for e in first + waiting] == ["database read failed: connection lost"] * 4
    database.fail = None
    answered: list[Any] = []
    thread = reading(cache, answered)
    assert database.started.acquire(timeout=10)
    database.queries[2].set()
    thread.join(10)
    assert [d.etag for d in answered] == ['"1"']


@pytest.mark.parametrize("readers", [1, 8])
def test_each_read_makes_at_most_one_query(readers: int) -> None:
    """Readers one after another: one query each (nothing to share, nothing skipped)."""
    database = SlowDatabase()
    cache = DocumentCache(database)  # type: ignore[arg-type]
    cache.get("f", Format.RSS)
    for n in range(readers):
        results: list[Any] = []
        thread = reading(cache, results)
        assert database.started.acquire(timeout=10)
        database.queries[n].set()
        thread.join(10)
        assert [d.etag for d in results] == ['"1"']
    assert len(database.queries) == readers


def test_a_check_survives_the_database_closing_its_connection() -> None:
    """PostgreSQL restarted, or the connection killed by an operator: the next check is made
    on a new connection, and a cached copy is still known current or not."""
    with postgres_schema() as url:
        name = f"feeds-test-{secrets.token_hex(4)}"
        with Store(f"{url}&application_name={name}") as store:
            body = b"<rss version='2.0'></rss>"
            assert store.put_document("f", Format.RSS, body, datetime.now(UTC))
            etag = store.current_etag("f", "rss")
            assert etag is not None and etag.startswith('"')
            with Store(url) as admin, admin.engine.connect() as conn:
                killed = conn.exec_driver_sql(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %(name)s",
                    {"name": name},
                ).scalar()
            assert killed  # the checks' own connection among them
            assert store.current_etag("f", "rss") == etag
            assert store.current_etag("nope", "rss") is None
