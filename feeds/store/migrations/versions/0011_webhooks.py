"""Webhooks: the outbox of events, each webhook's delivery state, the events given up, and
what feed_items needs to tell new, updated and hidden items apart.

``webhook_events`` is an append-only log (``seq`` never reused, even on SQLite once rows are
pruned); each webhook delivers it in order from its ``cursor``. ``feed_items.current`` marks
the items of a feed's current document, ``feed_items.seen_updated`` the modified date last
seen of each (NULL for rows recorded before this revision: no event for those).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# A copy of schema.UTCDateTime's storage: naive UTC.
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "webhook_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("feed", sa.String(200), nullable=False, server_default=""),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhooks",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("cursor", sa.Integer, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt", _TIME),
        sa.Column("failing_since", _TIME),
        sa.Column("last_delivery", _TIME),
        sa.Column("last_error", sa.Text),
        sa.Column("last_error_at", _TIME),
        sa.Column("delivered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("given_up", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "webhook_given_up",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("error", sa.Text, nullable=False),
    )
    with op.batch_alter_table("feed_items") as batch:
        batch.add_column(
            sa.Column("current", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("seen_updated", _TIME))


def downgrade() -> None:
    with op.batch_alter_table("feed_items") as batch:
        batch.drop_column("seen_updated")
        batch.drop_column("current")
    op.drop_table("webhook_given_up")
    op.drop_table("webhooks")
    op.drop_table("webhook_events")
