"""Add ``version`` for optimistic concurrency (ETag and If-Match).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Existing users start at version 1. A constant default is stored in the catalog, so PostgreSQL
adds the column without rewriting the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    op.add_column(
        "users",
        sa.Column("version", sa.BigInteger, nullable=False, server_default=sa.text("1")),
    )


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("users", "version")
