"""Add ``idempotency_keys``: the responses recorded for ``Idempotency-Key`` on creation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

A new, empty table: nothing to fill, no lock on ``users``. Downgrading drops it, and with it
every recorded response (retries of earlier creations would then create again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the table and its expiry index."""
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.Text(collation="C"), nullable=False),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=False),
        sa.Column("headers", postgresql.JSONB, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="idempotency_keys_pkey"),
        sa.CheckConstraint(
            "char_length(key) BETWEEN 1 AND 255", name="idempotency_keys_key_length"
        ),
    )
    op.create_index("idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    """Drop the table (its index goes with it)."""
    op.drop_table("idempotency_keys")
