"""Initial schema: sources, entries, articles, documents, fetches.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from feeds.store.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("body_hash", sa.String(64)),
        sa.Column("last_fetch", UTCDateTime),
        sa.Column("last_success", UTCDateTime),
        sa.Column("last_http_status", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_fetch", UTCDateTime),
        sa.Column("moved_to", sa.Text),
        sa.Column("config_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("source_id", sa.String(200), primary_key=True),
        sa.Column("id", sa.String(2000), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("first_seen", UTCDateTime, nullable=False),
        sa.Column("last_seen", UTCDateTime, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_entries_published", "entries", ["published"])
    op.create_index("ix_entries_source_published", "entries", ["source_id", "published"])
    op.create_table(
        "articles",
        sa.Column("slug", sa.String(200), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("published", UTCDateTime, nullable=False),
        sa.Column("updated", UTCDateTime, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_table(
        "documents",
        sa.Column("feed", sa.String(200), primary_key=True),
        sa.Column("format", sa.String(10), primary_key=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("gzip", sa.LargeBinary, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
    )
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("http_status", sa.Integer),
        sa.Column("duration", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("new", sa.Integer, nullable=False),
        sa.Column("updated", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_fetches_source_at", "fetches", ["source_id", "at"])


def downgrade() -> None:
    for table in ("fetches", "documents", "articles", "entries", "sources"):
        op.drop_table(table)
