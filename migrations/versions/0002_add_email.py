"""Add the optional ``email``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Nullable and without a default, so PostgreSQL adds it without rewriting the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    op.add_column("users", sa.Column("email", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop the column, and every address stored in it."""
    op.drop_column("users", "email")
