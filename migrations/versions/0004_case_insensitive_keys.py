"""Make name and email unique ignoring case, and check every limit in the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Adds ``name_key`` and ``email_key``, the values' case-insensitive identities, fills them for the
existing rows, replaces the Go service's case-sensitive unique constraint on ``name`` with unique
constraints on the keys, and adds CHECK constraints for the limits the service validates.

The keys are computed here in Python by the service's own rule (Unicode case folding, then NFC;
see ``user_core.model.identity_key``), not by PostgreSQL's ``lower()``, whose result depends on
the server's collation provider and differs from case folding (``ß``, final ``σ``). Only the
offline ``--sql`` mode, which cannot run Python against the rows, falls back to
``normalize(lower(…), NFC)``: an approximation that may miss some case-insensitive duplicates
among legacy rows and make some of them unmatchable by the list filters until they are saved
again.

Legacy rows that the new rules reject stop the upgrade, which changes nothing then: two names
(or addresses) equal ignoring case, with :class:`~user_postgres.keys.KeyCollisions` listing every
group of users to rename; or a value longer than its limit, reported by PostgreSQL under the
check's name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from user_postgres.keys import KeyCollisions, stored_collisions

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH_SIZE = 5_000
_users = sa.table(
    "users",
    sa.column("id", sa.BigInteger),
    sa.column("name", sa.Text),
    sa.column("email", sa.Text),
    sa.column("name_key", sa.Text),
    sa.column("email_key", sa.Text),
)


def _identity_key(text: str) -> str:
    # A frozen copy of the service's rule as of this revision (what UserName.key and
    # EmailAddress.key return for a stored value): a migration must compute the same keys
    # whatever later versions of the service do. A change of rule needs a new migration.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text.strip()).casefold())


def upgrade() -> None:
    """Add and fill the keys, swap the unique constraints, add the checks."""
    op.add_column("users", sa.Column("name_key", sa.Text(collation="C"), nullable=True))
    op.add_column("users", sa.Column("email_key", sa.Text(collation="C"), nullable=True))
    if context.is_offline_mode():
        op.execute(
            "UPDATE users SET name_key = normalize(lower(btrim(name)), NFC),"
            " email_key = normalize(lower(btrim(email)), NFC)"
        )
    else:
        _fill_keys(op.get_bind())
        collisions = stored_collisions(op.get_bind(), ["name", "email"])
        if collisions:
            raise KeyCollisions(collisions, "make names and emails unique ignoring case")
    op.alter_column("users", "name_key", nullable=False)
    op.drop_constraint("users_name_key", "users", type_="unique")
    op.create_unique_constraint("users_name_key_unique", "users", ["name_key"])
    op.create_unique_constraint("users_email_key_unique", "users", ["email_key"])
    op.create_check_constraint("users_name_length", "users", "char_length(name) BETWEEN 1 AND 100")
    op.create_check_constraint("users_email_length", "users", "char_length(email) <= 254")
    op.create_check_constraint("users_other_length", "users", "char_length(other) <= 1000")
    op.create_check_constraint(
        "users_email_key_with_email", "users", "(email IS NULL) = (email_key IS NULL)"
    )
    op.create_check_constraint("users_version_positive", "users", "version >= 1")


def downgrade() -> None:
    """Back to the case-sensitive unique name; the keys are dropped (names stay unique)."""
    for check in (
        "users_version_positive",
        "users_email_key_with_email",
        "users_other_length",
        "users_email_length",
        "users_name_length",
    ):
        op.drop_constraint(check, "users", type_="check")
    op.drop_constraint("users_email_key_unique", "users", type_="unique")
    op.drop_constraint("users_name_key_unique", "users", type_="unique")
    op.create_unique_constraint("users_name_key", "users", ["name"])
    op.drop_column("users", "email_key")
    op.drop_column("users", "name_key")


def _fill_keys(connection: sa.Connection) -> None:
    # In batches along the primary key, so memory stays flat however many users there are.
    after_id = 0
    while True:
        rows = connection.execute(
            sa.select(_users.c.id, _users.c.name, _users.c.email)
            .where(_users.c.id > after_id)
            .order_by(_users.c.id)
            .limit(_BATCH_SIZE)
        ).all()
        if not rows:
            return
        connection.execute(
            _users.update()
            .where(_users.c.id == sa.bindparam("row_id"))
            .values(name_key=sa.bindparam("new_name_key"), email_key=sa.bindparam("new_email_key")),
            [
                {
                    "row_id": row_id,
                    "new_name_key": _identity_key(name),
                    "new_email_key": None if email is None else _identity_key(email),
                }
                for row_id, name, email in rows
            ],
        )
        after_id = rows[-1].id
