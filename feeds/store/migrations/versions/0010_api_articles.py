"""Articles pushed by the CMS over the API, and the record of every API write.

``articles.origin`` says who owns an article's slug: ``file`` (an article file, the only kind
so far) or ``api`` (written by an API client; a file sync never removes it). ``api_writes``
records every write through the API: when, which client, which slug, what happened; its
growing id tells a clock that articles changed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A copy of schema.UTCDateTime's storage: naive UTC.
_TIME = sa.DateTime()


def upgrade() -> None:
    op.add_column(
        "articles",
        sa.Column("origin", sa.String(10), nullable=False, server_default="file"),
    )
    op.create_table(
        "api_writes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("client", sa.String(200), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_writes")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("origin")
