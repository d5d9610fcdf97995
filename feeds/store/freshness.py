"""How the web process learns cheaply that nothing was committed since it last looked.

SQLite keeps a counter per connection, ``PRAGMA data_version``, that changes whenever another
connection (of any process) commits: read on a connection of its own, kept open and never
used for anything else, it costs a few microseconds and no file read. PostgreSQL has no such
thing short of a query, so there is no counter and every check is a query (see
DocumentCache).
"""

from __future__ import annotations

import threading
from typing import Any

from feeds.store.engine import Database


class FreshnessMixin(Database):
    _counter_lock = threading.Lock()  # one for every store of the process (a web worker has one)
    _counter_connection: Any = None

    def change_counter(self) -> int | None:
        """A number that differs from the one read before whenever anything was committed
        to the database in between by any other connection; None when the database has no
        such counter (PostgreSQL): then only a query tells."""
        if self.engine.dialect.name != "sqlite":
            return None
        with self._counter_lock:
            if self._counter_connection is None:
                # its own connection, out of the pool for good: the counter is per connection
                self._counter_connection = self.engine.raw_connection()
            cursor = self._counter_connection.cursor()
            try:
                cursor.execute("PRAGMA data_version")
                return int(cursor.fetchone()[0])
            finally:
                cursor.close()

    def close(self) -> None:
        with self._counter_lock:
            if self._counter_connection is not None:
                self._counter_connection.close()
                self._counter_connection = None
        super().close()
