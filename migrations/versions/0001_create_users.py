"""Create ``users`` as the original Go service had it.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

id, a unique name, free text and two timestamps. The unique constraint keeps the name PostgreSQL
gave it there, so that a database carried over from the Go service is at this revision as it is
(``alembic stamp 0001``) and upgrades from here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table."""
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("other", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="users_pkey"),
        sa.UniqueConstraint("name", name="users_name_key"),
    )


def downgrade() -> None:
    """Drop the table, and every user with it."""
    op.drop_table("users")
