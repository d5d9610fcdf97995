"""The database itself: the engine, its migrations and its transactions.

`Database` is the base of every concern of the store (see ``feeds/store/__init__.py``): it
owns one SQLAlchemy engine, tuned per backend so that writers never race:

- SQLite (embedded, the default): write-ahead log, ``synchronous=NORMAL``, a 30 s busy
  timeout; writers ``BEGIN IMMEDIATE`` and, within this process, queue on a lock first.
- PostgreSQL (several machines): every write transaction takes one advisory lock, the same
  one-writer-at-a-time rule across every process; large values are stored with lz4.

Reads and writes go through `_read` and `_write`, which wrap any SQLAlchemy error as a
StoreError. A caller that does several steps at once opens a `reading` or `writing` block:
every read and write of the store in it (in this thread) joins that one transaction, so
that a publish costs one read and one write transaction however many concerns it touches,
and a crash in the middle of it leaves none of its writes; a `held` block keeps one connection
for several such blocks (a publish's read and write). The schema is created and
upgraded by the Alembic migrations in ``migrations/``, applied when a store opens; Alembic
is only imported when there is work to do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from feeds.errors import StoreError

DEFAULT_URL = "sqlite:///instance/feeds.db"
_MIGRATING = threading.Lock()
HEAD_REVISION = "0011"  # the newest migration; a test keeps this in step with migrations/
MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_LOCK_KEY = 7401167  # PostgreSQL advisory lock held by every write transaction


def engine_url(url: str) -> str:
    """Accept the URLs people write and pick the drivers we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """`items` in slices of at most `size`: IN lists stay within every backend's limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def create_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for `url` whose write transactions (execution option ``feeds_write``)
    exclude one another across processes; ``pooled=False``: a connection per use, none
    kept open in between (for a background writer that writes every few seconds)."""
    parsed = sa.make_url(url)
    pool: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(url, pool_pre_ping=True, **pool)

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_connection: Any, _record: Any) -> None:
            _prefer_lz4(dbapi_connection)

        @event.listens_for(engine, "begin")
        def _serialize_writers(conn: Connection) -> None:
            # Like SQLite's BEGIN IMMEDIATE: one writer at a time across every process
            # (clock, web, a `feeds update` by hand), so read-then-write steps cannot race.
            options = conn.get_execution_options()
            if not options.get("feeds_write", False):
                return
            lock = f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"
            if options.get("isolation_level") == "AUTOCOMMIT":
                # The driver sends no BEGIN of its own (see Database._write): the BEGIN
                # and the lock in one round trip.
                conn.exec_driver_sql(f"BEGIN; {lock}")
            else:
                conn.exec_driver_sql(lock)

        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30}, **pool)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that writers can BEGIN IMMEDIATE
        # (a deferred transaction that later writes can fail at once with "locked").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("feeds_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _prefer_lz4(dbapi_connection: Any) -> None:
    """Compress the large values this connection stores (documents) with lz4 rather than
    PostgreSQL's default pglz: about four times faster to write a feed's documents, for a
    little more space. PostgreSQL 14 and later, built with lz4 (as the usual packages are);
    elsewhere the default stays."""
    if dbapi_connection.info.server_version < 140000:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET default_toast_compression = 'lz4'")
        dbapi_connection.commit()
    except Exception:  # a server built without lz4: keep pglz
        dbapi_connection.rollback()


class NoDatabase(StoreError):
    """``create=False`` and there is no SQLite database file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"no database at {path}")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None for PostgreSQL or an in-memory database)."""
    parsed = sa.make_url(engine_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


class Database:
    """One engine, its schema and its transactions; the base of every storage concern.

    ``create=False`` (read-only commands): a SQLite file that does not exist is not created
    (nor its directory); NoDatabase is raised instead."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        migrate: bool = True,
        pooled: bool = True,
        create: bool = True,
    ) -> None:
        self.url = engine_url(url)
        try:
            sqlite = sa.make_url(self.url).get_backend_name() == "sqlite"
        except SQLAlchemyError as e:  # not a URL at all
            shown = re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)  # never show a password
            raise StoreError(
                f"not a database URL: {shown!r} (sqlite:///PATH or postgresql://…)"
            ) from e
        path = None if create else sqlite_file(self.url)
        if path is not None and not path.is_file():
            raise NoDatabase(path.absolute())
        # SQLite has one writer at a time. Threads of this process queue on a lock rather than
        # in SQLite's busy handler, which polls with sleeps of up to 100 ms; other processes
        # still wait in the busy handler.
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if sqlite else nullcontext()
        )
        self._ambient = threading.local()  # this thread's reading()/writing() block
        try:
            self.engine = create_engine(self.url, pooled=pooled)
            if migrate:
                self.migrate()
        except SQLAlchemyError as e:
            reason = " ".join(str(getattr(e, "orig", None) or e).split())  # the driver's words
            shown = sa.make_url(url).render_as_string(hide_password=True)
            raise StoreError(f"cannot open database {shown}: {reason}") from e
        except OSError as e:  # its directory cannot be made
            raise StoreError(f"cannot open database {url}: {e.strerror or e}: {e.filename}") from e

    def schema_revision(self) -> str | None:
        """The schema revision of the database (None when it has no schema yet)."""
        try:
            with self.engine.connect() as conn:
                value = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError:
            return None
        return None if value is None else str(value[0])

    def migrate(self, revision: str = "head") -> None:
        """Create or upgrade the schema. Alembic is only loaded when there is work to do:
        a database already at HEAD_REVISION opens without it (faster start)."""
        if revision == "head" and self.schema_revision() == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        # Alembic keeps the running migration's context in module globals: one at a time in
        # a process (other processes wait on the database's own lock, see migrations/env.py).
        with _MIGRATING, self.engine.connect() as conn:
            conn.execution_options(feeds_write=True)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()

    def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        with self._read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction (one snapshot, one connection) for everything this thread
        reads through the store until the block ends; a write in it is an error. (Inside a
        ``held`` block on PostgreSQL: no transaction, the same snapshots, see ``held``.)"""
        with self._read() as conn, self._joined(conn, write=False):
            yield

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One write transaction for everything this thread reads and writes through the
        store until the block ends: committed when the block ends, rolled back (every step
        of it) if it raises."""
        with self._write() as conn, self._joined(conn, write=True):
            yield

    @contextmanager
    def held(self) -> Iterator[None]:
        """One connection for every transaction this thread opens through the store until the
        block ends (a publish's read, then its write): one pool checkout, and on PostgreSQL one
        check that the connection is alive, instead of one per transaction. On PostgreSQL a
        read in the block runs without BEGIN and COMMIT: at its READ COMMITTED isolation every
        statement sees its own snapshot, in a transaction or not."""
        held = getattr(self._ambient, "held", None)
        if held is not None or self._ambient_connection(write=False) is not None:
            yield  # an outer block holds a connection already
            return
        try:
            with self.engine.connect() as conn:
                self._ambient.held = conn
                try:
                    yield
                finally:
                    self._ambient.held = None
        except SQLAlchemyError as e:
            raise StoreError(f"database connection failed: {e}") from e

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """The connection of an enclosing ``held`` block, or one of the pool's."""
        held: Connection | None = getattr(self._ambient, "held", None)
        if held is not None:
            yield held
            return
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _joined(self, conn: Connection, *, write: bool) -> Iterator[None]:
        if getattr(self._ambient, "conn", None) is not None:
            yield  # already inside one: the outer block owns the transaction
            return
        self._ambient.conn, self._ambient.write = conn, write
        try:
            yield
        finally:
            self._ambient.conn = None

    def _ambient_connection(self, *, write: bool) -> Connection | None:
        """The transaction of an enclosing ``reading``/``writing`` block of this thread."""
        conn: Connection | None = getattr(self._ambient, "conn", None)
        if conn is not None and write and not self._ambient.write:
            raise StoreError("a write inside a read transaction (Store.reading)")
        return conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises
        (inside a ``writing`` block: that block's transaction)."""
        ambient = self._ambient_connection(write=True)
        if ambient is not None:
            yield ambient
            return
        try:
            with self._write_lock, self._connection() as conn:
                if self.engine.dialect.name == "sqlite":
                    conn.execution_options(feeds_write=True)
                else:
                    # No BEGIN from the driver: the transaction's BEGIN is sent with its
                    # advisory lock (create_engine), then its COMMIT (or ROLLBACK) as usual.
                    conn.execution_options(feeds_write=True, isolation_level="AUTOCOMMIT")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if not conn.invalidated:  # a held one reads next
                        conn.execution_options(feeds_write=False)
                        if self.engine.dialect.name != "sqlite":
                            conn.execution_options(isolation_level=conn.default_isolation_level)
        except SQLAlchemyError as e:
            raise StoreError(f"database write failed: {e}") from e

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read transaction: one snapshot for everything read in the block (inside a
        ``reading`` or ``writing`` block: that block's transaction)."""
        ambient = self._ambient_connection(write=False)
        if ambient is not None:
            yield ambient
            return
        try:
            with self._connection() as conn:
                held = getattr(self._ambient, "held", None) is not None
                if held and self.engine.dialect.name != "sqlite":
                    conn.execution_options(isolation_level="AUTOCOMMIT")  # see held()
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if held and self.engine.dialect.name != "sqlite" and not conn.invalidated:
                        conn.execution_options(isolation_level=conn.default_isolation_level)
        except SQLAlchemyError as e:
            raise StoreError(f"database read failed: {e}") from e
