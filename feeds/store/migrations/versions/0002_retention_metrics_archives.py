"""Retention tombstones, metrics counters, archive membership, WebSub pings, suspect sources.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("suspect_since", UTCDateTime))
        batch.add_column(sa.Column("feed_ttl", sa.Integer))
    op.create_table(
        "tombstones",
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("id", sa.String(2000), primary_key=True),
        sa.Column("removed", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_table(
        "feed_items",
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("item_id", sa.String(2000), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_feed_items_feed_seq", "feed_items", ["feed", "seq"], unique=True)
    op.create_table(
        "hub_pings",
        sa.Column("topic", sa.String(500), primary_key=True),
        sa.Column("hub", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt", UTCDateTime, nullable=False),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    for table in ("hub_pings", "feed_items", "counters", "tombstones"):
        op.drop_table(table)
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("feed_ttl")
        batch.drop_column("suspect_since")
