"""Alembic environment: runs on the connection the Store hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from feeds.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("feeds migrations run through feeds.store.Store, not the alembic CLI")

if connection.dialect.name == "postgresql":
    # Web and clock processes may start at once: one migrates, the others wait.
    connection.execute(text("SELECT pg_advisory_xact_lock(7401166)"))

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
