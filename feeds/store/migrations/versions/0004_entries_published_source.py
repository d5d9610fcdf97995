"""Entries indexed by (published, source_id): the newest entries of a feed over many sources
are found by reading the newest index entries alone (see entries.cutoff).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entries_published_source", "entries", ["published", "source_id"])
    op.drop_index("ix_entries_published", table_name="entries")


def downgrade() -> None:
    op.create_index("ix_entries_published", "entries", ["published"])
    op.drop_index("ix_entries_published_source", table_name="entries")
