"""Create ``users`` as the original Go service had it, or adopt the Go service's own table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

id, a unique name, free text and two timestamps. The unique constraint keeps the name PostgreSQL
gave it there (``users_name_key``).

**Adopting the Go service's database.** When the database holds the Go service's schema
(golang-migrate's ``schema_migrations`` at version 2, not dirty, and its ``users`` table), this
revision converts that table in place instead of creating one, in the same transaction as every
later revision, so an upgrade either adopts the database whole or changes nothing:

- ``id bigserial`` becomes an identity column whose sequence continues after the largest id and
  after every id the Go sequence handed out; every row keeps its id;
- the ``timestamp`` columns become ``timestamptz``, their values read in the time zone that the
  ``legacy_time_zone`` attribute of the Alembic configuration names
  (``USER_SERVICE_LEGACY_TIME_ZONE``; ``-x legacy_time_zone=…`` on the ``alembic`` command
  line; default ``UTC``), logged;
- the constraint ``users_name`` is renamed to this revision's ``users_name_key``.

``schema_migrations`` is left as it is, so the Go service still starts on the database (its
migrations find nothing to do) while both run during a cut-over. Before changing anything, every
user is read as the service reads it: names equal ignoring case (by the service's rule) and values
the service refuses (a blank name, a control character, ...) stop the adoption, all of them
listed (:class:`~user_postgres.keys.KeyCollisions`). Revision 0004 then computes every key.

The downgrade of an adopted database gives the Go service's table back (``bigserial``,
``timestamp`` in the same time zone, ``users_name``, ``''`` for a ``NULL`` ``other``) instead of
dropping it; what later revisions added and the Go service cannot hold (emails, versions, keys)
is dropped on the way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import sqlalchemy as sa
from alembic import context, op

from user_core.model import USER_FIELDS
from user_postgres.keys import scan

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GO_MIGRATIONS: Final = "schema_migrations"
GO_VERSION: Final = 2
GO_NAME_UNIQUE: Final = "users_name"
NAME_UNIQUE: Final = "users_name_key"
LEGACY_TIME_ZONE: Final = "legacy_time_zone"
# The Go service's users table, column by column: (type, nullable).
GO_COLUMNS: Final = {
    "id": ("bigint", False),
    "name": ("text", False),
    "other": ("text", True),
    "created_at": ("timestamp without time zone", False),
    "updated_at": ("timestamp without time zone", True),
}
_logger = logging.getLogger("user_postgres.migrate")


def upgrade() -> None:
    """Create the table, or adopt the Go service's."""
    if not context.is_offline_mode() and go_schema(op.get_bind()):
        _adopt(op.get_bind(), legacy_time_zone())
        return
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("other", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="users_pkey"),
        sa.UniqueConstraint("name", name=NAME_UNIQUE),
    )


def downgrade() -> None:
    """Drop the table, and every user with it; or give an adopted table back to the Go service."""
    connection = op.get_bind()
    if not context.is_offline_mode() and _go_migrations_version(connection) is not None:
        _give_back(connection, legacy_time_zone())
        return
    op.drop_table("users")


def legacy_time_zone() -> str:
    """The time zone the Go service's ``timestamp`` values are read and written in."""
    configured = context.config.attributes.get(LEGACY_TIME_ZONE)
    if configured is None:
        configured = context.get_x_argument(as_dictionary=True).get(LEGACY_TIME_ZONE, "UTC")
    return str(configured)


def _go_migrations_version(connection: sa.Connection) -> tuple[int, bool] | None:
    if not sa.inspect(connection).has_table(GO_MIGRATIONS):
        return None
    rows = connection.execute(sa.text("SELECT version, dirty FROM schema_migrations")).all()
    if len(rows) != 1:
        raise RuntimeError(
            f"{GO_MIGRATIONS} has {len(rows)} rows, not the one golang-migrate keeps: "
            "not a Go service's database this service can adopt"
        )
    version, dirty = rows[0]
    return int(version), bool(dirty)


def go_schema(connection: sa.Connection) -> bool:
    """Whether the database is the Go service's; raises if it is, but not one to adopt."""
    found = _go_migrations_version(connection)
    if found is None:
        return False
    if found != (GO_VERSION, False):
        raise RuntimeError(
            f"the Go service's {GO_MIGRATIONS} is at version {found[0]}"
            f"{' (dirty)' if found[1] else ''}: only version {GO_VERSION}, not dirty, can be "
            "adopted; finish or repair its migrations first"
        )
    columns = {
        row.column_name: (row.data_type, row.is_nullable == "YES")
        for row in connection.execute(
            sa.text(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = 'users'"
            )
        )
    }
    if columns != GO_COLUMNS:
        raise RuntimeError(
            f"{GO_MIGRATIONS} says version {GO_VERSION}, but its users table is not the Go "
            f"service's: columns {columns}, expected {GO_COLUMNS}"
        )
    return True


def _set_time_zone(connection: sa.Connection, zone: str) -> str:
    """Make ``zone`` the transaction's time zone; returns the one before."""
    before = connection.execute(sa.text("SELECT current_setting('TimeZone')")).scalar_one()
    connection.execute(sa.text("SELECT set_config('TimeZone', :zone, true)"), {"zone": zone})
    return str(before)


def _id_sequence(connection: sa.Connection) -> str | None:
    found = connection.execute(sa.text("SELECT pg_get_serial_sequence('users', 'id')"))
    sequence = found.scalar_one()
    return None if sequence is None else str(sequence)


def _last_id(connection: sa.Connection) -> int:
    """The largest id in use, or ever handed out by the id column's sequence."""
    return int(
        connection.execute(
            sa.text(
                "SELECT GREATEST(COALESCE((SELECT max(id) FROM users), 0), COALESCE(("
                "  SELECT last_value FROM pg_sequences"
                "  WHERE format('%I.%I', schemaname, sequencename)::regclass"
                "    = pg_get_serial_sequence('users', 'id')::regclass), 0))"
            )
        ).scalar_one()
    )


def _adopt(connection: sa.Connection, zone: str) -> None:
    _logger.warning(
        "Adopting the Go service's database (%s at version %s): its timestamps without time "
        "zone are read as %s time (USER_SERVICE_LEGACY_TIME_ZONE)",
        GO_MIGRATIONS,
        GO_VERSION,
        zone,
    )
    # Every user as this service will read it, before anything changes: a value it refuses, or
    # names equal ignoring case, stop the adoption with all of them listed.
    columns = set(GO_COLUMNS)
    scan(connection, [field for field in USER_FIELDS if field.name in columns]).refuse(
        "adopt the Go service's database"
    )
    sequence = _id_sequence(connection)
    last_id = _last_id(connection)
    op.alter_column("users", "id", server_default=None)
    if sequence is not None:
        op.execute(f"DROP SEQUENCE {sequence}")
    op.execute(
        "ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY"
        f" (START WITH {last_id + 1})"
    )
    before = _set_time_zone(connection, zone)
    op.execute(
        "ALTER TABLE users ALTER COLUMN created_at TYPE timestamptz,"
        " ALTER COLUMN updated_at TYPE timestamptz"
    )
    _set_time_zone(connection, before)
    op.execute(f"ALTER TABLE users RENAME CONSTRAINT {GO_NAME_UNIQUE} TO {NAME_UNIQUE}")


def _give_back(connection: sa.Connection, zone: str) -> None:
    _logger.warning(
        "Giving the database back to the Go service: timestamps written as %s time "
        "(USER_SERVICE_LEGACY_TIME_ZONE)",
        zone,
    )
    last_id = _last_id(connection)
    # The Go service reads other into a Go string, which cannot hold NULL.
    op.execute("UPDATE users SET other = '' WHERE other IS NULL")
    op.execute("ALTER TABLE users ALTER COLUMN id DROP IDENTITY")
    op.execute("CREATE SEQUENCE users_id_seq OWNED BY users.id")
    op.execute(f"SELECT setval('users_id_seq', {max(last_id, 1)}, {last_id > 0})")
    op.execute("ALTER TABLE users ALTER COLUMN id SET DEFAULT nextval('users_id_seq')")
    before = _set_time_zone(connection, zone)
    op.execute(
        "ALTER TABLE users ALTER COLUMN created_at TYPE timestamp,"
        " ALTER COLUMN updated_at TYPE timestamp"
    )
    _set_time_zone(connection, before)
    op.execute(f"ALTER TABLE users RENAME CONSTRAINT {NAME_UNIQUE} TO {GO_NAME_UNIQUE}")
