"""Readership: requests per feed, variant, reader and status (for good, and by the hour),
the subscribers aggregators report, and other clients per day as keyed hashes under a daily
salt that is dropped once the day is over.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A copy of schema.UTCDateTime's storage: naive UTC.
_TIME = sa.DateTime()


def _request_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("variant", sa.String(20), primary_key=True),
        sa.Column("partner", sa.String(200), primary_key=True),
        sa.Column("status", sa.Integer, primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("last_seen", _TIME, nullable=False),
    ]


def upgrade() -> None:
    op.create_table("readership_totals", *_request_columns())
    op.create_table(
        "readership_hours", sa.Column("hour", _TIME, primary_key=True), *_request_columns()
    )
    op.create_table(
        "readership_subscribers",
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("format", sa.String(10), primary_key=True),
        sa.Column("aggregator", sa.String(60), primary_key=True),
        sa.Column("feed_id", sa.String(80), primary_key=True),
        sa.Column("subscribers", sa.BigInteger, nullable=False),
        sa.Column("reported", _TIME, nullable=False),
    )
    op.create_table(
        "readership_salts",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
    )
    op.create_table(
        "readership_clients",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("client", sa.String(32), primary_key=True),
    )
    op.create_table(
        "readership_daily_clients",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("clients", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "readership_daily_clients",
        "readership_clients",
        "readership_salts",
        "readership_subscribers",
        "readership_hours",
        "readership_totals",
    ):
        op.drop_table(table)
