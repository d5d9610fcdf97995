"""Shared fixtures. The loopback upstream server lives in tests/upstream.py.

Storage tests take the `db_url` fixture, which runs them twice: against a SQLite file and
against the PostgreSQL on this machine (a fresh schema per test, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from flask.testing import FlaskClient

from feeds.web import create_app, state

if TYPE_CHECKING:
    from tests.sites import Site
    from tests.upstream import Upstream

pytest_plugins = ["tests.upstream"]

PG_DSN = os.environ.get("FEEDS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_problem() -> str | None:
    """Why the PostgreSQL tests cannot run here (None when they can); asked once."""
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else e}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'feeds.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def both_db_urls(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A SQLite file and a fresh PostgreSQL schema, for a test that runs the same scenario
    on both at once (to halve a slow test's wall time)."""
    with postgres_schema() as url:
        yield f"sqlite:///{tmp_path / 'feeds.db'}", url


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema on the test PostgreSQL, dropped afterwards."""
    problem = postgres_problem()
    if problem is not None:
        shown = re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", PG_DSN)  # never print a password
        message = (
            f"no PostgreSQL at {shown} ({problem}); start one, or point "
            "FEEDS_TEST_POSTGRES=postgresql://USER@HOST:PORT/DB at one"
        )
        if "CI" in os.environ:  # as for the browser tests
            pytest.fail(message + " (CI is set: PostgreSQL tests must run)")
        pytest.skip(message)
    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_DSN}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def site(tmp_path: Path, upstream: Upstream, db_url: str) -> Site:
    from tests.sites import Site, serve_fixture_feeds, write_site

    serve_fixture_feeds(upstream)
    return Site(write_site(tmp_path, upstream), db_url, upstream)


@pytest.fixture
def client(site: Site) -> Iterator[FlaskClient]:
    app = create_app(
        {
            "FEEDS_CONFIG": str(site.config),
            "DATABASE_URL": site.db,
            "TESTING": True,
        }
    )
    with app.test_client() as c:
        yield c
    state(app).store.close()
