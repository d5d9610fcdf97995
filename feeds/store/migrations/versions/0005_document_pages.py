"""Documents get a page number: 0 is a feed's current document, N its archive page N.

Archive pages used to be documents of a feed named "FEED/archive/N" (feed names never hold
a "/"); they become rows of FEED with page N, and the primary key becomes (feed, page,
format). SQLite cannot change a primary key in place: the table is copied (batch mode).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SEPARATOR = "/archive/"


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    page = sa.Column("page", sa.Integer, primary_key=True, nullable=False, server_default="0")
    with op.batch_alter_table("documents", recreate="always" if sqlite else "auto") as batch:
        if sqlite:  # the table is copied, with its columns in the new key's order
            batch.add_column(page, insert_after="feed")
        else:
            batch.add_column(page)
            batch.drop_constraint("documents_pkey", type_="primary")
        batch.create_primary_key("documents_pkey", ["feed", "page", "format"])
    names = conn.execute(
        sa.text("SELECT DISTINCT feed FROM documents WHERE feed LIKE :pattern"),
        {"pattern": f"%{SEPARATOR}%"},
    ).scalars()
    moves = []
    for name in names:
        feed, _, number = name.rpartition(SEPARATOR)
        if feed and number.isdigit():
            moves.append({"name": name, "feed": feed, "page": int(number)})
    if moves:
        conn.execute(
            sa.text("UPDATE documents SET feed = :feed, page = :page WHERE feed = :name"), moves
        )


def downgrade() -> None:
    conn = op.get_bind()
    pages = conn.execute(sa.text("SELECT DISTINCT feed, page FROM documents WHERE page > 0")).all()
    if pages:
        conn.execute(
            sa.text(
                "UPDATE documents SET feed = :name, page = 0 WHERE feed = :feed AND page = :page"
            ),
            [{"name": f"{feed}{SEPARATOR}{n}", "feed": feed, "page": n} for feed, n in pages],
        )
    with op.batch_alter_table("documents") as batch:
        if conn.dialect.name != "sqlite":
            batch.drop_constraint("documents_pkey", type_="primary")
        batch.drop_column("page")
        batch.create_primary_key("documents_pkey", ["feed", "format"])
