"""How the web process learns cheaply whether its cached copy of a document is still current.

The web process asks on every request it serves from its cache, so the asking goes through a
connection of its own, out of the pool for good: no checkout, no liveness ping, no
transaction around one statement (the connection is in autocommit mode), the statement
compiled once, one cursor for every check.

- SQLite keeps a counter per connection, ``PRAGMA data_version``, that changes whenever
  another connection (of any process) commits: a few microseconds, no file read. When it has
  not moved, nothing at all changed and no query is needed.
- PostgreSQL has no such counter: every check is one indexed query of the stored ETag.

Should that connection fail (a database restarted), it is dropped and the check made again
on a new one; a second failure is a StoreError.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from feeds.errors import StoreError
from feeds.store.documents import ETAG_OF
from feeds.store.engine import Database


class FreshnessMixin(Database):
    _own_lock = threading.Lock()  # one for every store of the process (a web worker has one)
    _own: Any = None  # the checks' own DB-API connection
    _cursor: Any = None  # and its cursor
    _etag_sql: tuple[str, tuple[str, ...] | None] | None = None

    def change_counter(self) -> int | None:
        """A number that differs from the one read before whenever anything was committed
        to the database in between by any other connection; None when the database has no
        such counter (PostgreSQL): then only a query tells."""
        if self.engine.dialect.name != "sqlite":
            return None
        row = self._one("PRAGMA data_version", ())
        assert row is not None
        return int(row[0])

    def current_etag(self, feed: str, fmt: str, page: int = 0, variant: str = "") -> str | None:
        """The stored ETag of a document (``fmt``: a feed format, or ``html`` for a feed's
        view): document_etag's answer, asked through the checks' own connection."""
        if self._etag_sql is None:
            compiled = ETAG_OF.compile(dialect=self.engine.dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            self._etag_sql = (compiled.string, order)
        sql, order = self._etag_sql
        values = {"feed": feed, "variant": variant, "page": page, "format": fmt}
        row = self._one(sql, values if order is None else tuple(values[n] for n in order))
        return None if row is None else str(row[0])

    def _one(self, sql: str, params: Any) -> Any:
        """The first row of ``sql``; on a broken connection, once more on a new one."""
        with self._own_lock:
            for attempt in (1, 2):
                try:
                    return self._run(sql, params)
                except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error) as e:
                    self._drop_own()
                    if attempt == 2:
                        raise StoreError(f"database read failed: {e}") from e
        raise AssertionError("unreachable")

    def _run(self, sql: str, params: Any) -> Any:
        if self._own is None:
            own = self.engine.raw_connection()
            if self.engine.dialect.name != "sqlite":
                driver: Any = own.driver_connection
                driver.autocommit = True
            own.detach()  # closed, never returned to the pool in autocommit mode
            self._own, self._cursor = own, own.cursor()
        self._cursor.execute(sql, params)  # one cursor for every check: a third cheaper
        row = self._cursor.fetchall()  # (to the end: the statement is done with)
        return row[0] if row else None

    def _drop_own(self) -> None:
        if self._own is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                self._own.close()
            self._own = self._cursor = None

    def close(self) -> None:
        with self._own_lock:
            self._drop_own()
        super().close()
