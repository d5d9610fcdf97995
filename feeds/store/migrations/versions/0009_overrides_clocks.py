"""Editorial overrides with their audit trail, and the clocks' heartbeats.

``overrides`` holds the overrides in force: an item (its published id or its link, as the
editor gave it) hidden everywhere, pinned to the top of one feed (until a time, or for good),
or retitled everywhere. ``override_log`` records every command that changed them, with who,
when and why; its growing id tells a clock that something changed. ``clocks`` holds each
clock process's last heartbeat. ``problems`` holds what the clock found wrong (bad article
files), for the web process's /status.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A copy of schema.UTCDateTime's storage: naive UTC.
_TIME = sa.DateTime()


def upgrade() -> None:
    op.create_table(
        "overrides",
        sa.Column("item", sa.String(2000), primary_key=True),
        sa.Column("action", sa.String(10), primary_key=True),
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("until", _TIME),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", _TIME, nullable=False),
    )
    op.create_table(
        "override_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("item", sa.String(2000), nullable=False),
        sa.Column("feed", sa.String(200), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("until", _TIME),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "clocks",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started", _TIME, nullable=False),
        sa.Column("heartbeat", _TIME, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )

    op.create_table(
        "problems",
        sa.Column("scope", sa.String(20), primary_key=True),
        sa.Column("file", sa.String(500), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("since", _TIME, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("problems")
    op.drop_table("clocks")
    op.drop_table("override_log")
    op.drop_table("overrides")
