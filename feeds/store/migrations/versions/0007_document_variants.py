"""Documents get a variant and a count of omitted items.

A feed's documents are no longer one per (page, format): partners may receive another variant
of a feed than the public (full text where the public one is a summary). ``variant`` is ""
for the feed's own documents (served to the public, or to partners taking what the feed
publishes) and the content mode of a partner's variant otherwise ("full", "summary"); the
primary key becomes (feed, variant, page, format). ``omitted`` counts the items a document
left out to stay within the feed's byte budget. SQLite cannot change a primary key in place:
the table is copied (batch mode).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    variant = sa.Column(
        "variant", sa.String(20), primary_key=True, nullable=False, server_default=""
    )
    omitted = sa.Column("omitted", sa.Integer, nullable=False, server_default="0")
    with op.batch_alter_table("documents", recreate="always" if sqlite else "auto") as batch:
        if sqlite:  # the table is copied, with its columns in the new key's order
            batch.add_column(variant, insert_after="feed")
        else:
            batch.add_column(variant)
            batch.drop_constraint("documents_pkey", type_="primary")
        batch.add_column(omitted)
        batch.create_primary_key("documents_pkey", ["feed", "variant", "page", "format"])


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM documents WHERE variant <> ''"))
    with op.batch_alter_table("documents") as batch:
        if conn.dialect.name != "sqlite":
            batch.drop_constraint("documents_pkey", type_="primary")
        batch.drop_column("omitted")
        batch.drop_column("variant")
        batch.create_primary_key("documents_pkey", ["feed", "page", "format"])
