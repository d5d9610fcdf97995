"""Sources remember what their last parsed body had that could not be read (a date in an
unknown form, say), shown to editors beside the source's state, and the [fetch] settings their
last fetch ran with (a hash), so that changing those settings ends the backoff they caused.
Entries remember whether their source's document gave their link to other stories too (such a
link does not identify the story: it merges nothing across sources).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sources", sa.Column("warning", sa.Text(), nullable=True))
    op.add_column("sources", sa.Column("fetch_hash", sa.String(64), nullable=True))
    op.add_column(
        "entries",
        sa.Column("link_shared", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("link_shared")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("fetch_hash")
        batch.drop_column("warning")
