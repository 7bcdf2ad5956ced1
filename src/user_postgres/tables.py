"""The schema as SQLAlchemy Core tables: what the repository queries and Alembic compares against.

Limits come from the value objects' ``ClassVar``s, so a limit lives in one place; changing one
needs a migration, and the drift test fails until it exists.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from user_core.idempotency import IdempotencyKey
from user_core.model import EmailAddress, OtherInfo, TextValue, UserName


def key_column(field: str) -> str:
    """The column holding the identity key of a unique field (see ``UniqueText.key``)."""
    return f"{field}_key"


def key_unique_constraint(field: str) -> str:
    """The unique constraint on a field's key: violated when another user holds the same value,
    ignoring case, and so reported as ``FieldTaken(field)``."""
    return f"users_{field}_key_unique"


def length_check(field: str, kind: type[TextValue]) -> CheckConstraint:
    """The CHECK constraint of a field's length limits, read from its value object."""
    if kind.MIN_LENGTH > 0:
        rule = f"char_length({field}) BETWEEN {kind.MIN_LENGTH} AND {kind.MAX_LENGTH}"
    else:
        rule = f"char_length({field}) <= {kind.MAX_LENGTH}"
    return CheckConstraint(rule, name=f"users_{field}_length")


USERS_PRIMARY_KEY: Final = "users_pkey"
NAME_KEY_UNIQUE: Final = key_unique_constraint("name")
EMAIL_KEY_UNIQUE: Final = key_unique_constraint("email")
EMAIL_KEY_CHECK: Final = "users_email_key_with_email"
VERSION_CHECK: Final = "users_version_positive"

# "C" collation: the keys are only ever compared for equality, byte by byte, so their indexes
# must not depend on the operating system's collation rules (a C library upgrade that changes
# them silently corrupts a text index) and compare faster.
_KEY_TYPE = Text(collation="C")

metadata = MetaData()
"""Every table of the service; Alembic's ``env.py`` autogenerates and checks drift against it."""

users = Table(
    "users",
    metadata,
    Column("id", BigInteger, Identity(always=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", _KEY_TYPE, nullable=False),
    Column("email", Text, nullable=True),
    Column("email_key", _KEY_TYPE, nullable=True),
    Column("other", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    Column("version", BigInteger, nullable=False, server_default=text("1")),
    PrimaryKeyConstraint("id", name=USERS_PRIMARY_KEY),
    # Keys are computed in Python (UserName.key, EmailAddress.key), never by lower(): see
    # user_core.model.identity_key. NULL email keys never collide, so many users have no email.
    UniqueConstraint("name_key", name=NAME_KEY_UNIQUE),
    UniqueConstraint("email_key", name=EMAIL_KEY_UNIQUE),
    length_check("name", UserName),
    length_check("email", EmailAddress),
    length_check("other", OtherInfo),
    CheckConstraint("(email IS NULL) = (email_key IS NULL)", name=EMAIL_KEY_CHECK),
    CheckConstraint("version >= 1", name=VERSION_CHECK),
)
"""One row per user. ``version`` starts at 1 and the repository adds 1 on every change."""

IDEMPOTENCY_KEYS_PRIMARY_KEY: Final = "idempotency_keys_pkey"
IDEMPOTENCY_KEY_LENGTH_CHECK: Final = "idempotency_keys_key_length"
IDEMPOTENCY_EXPIRY_INDEX: Final = "idempotency_keys_expires_at"

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", _KEY_TYPE, nullable=False),
    Column("request_hash", LargeBinary, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("body", LargeBinary, nullable=False),
    # No foreign key: deleting a user must neither cascade here nor pay for a check; the
    # response recorded for its creation is replayed as it was, for the rest of its retention.
    Column("user_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("key", name=IDEMPOTENCY_KEYS_PRIMARY_KEY),
    CheckConstraint(
        f"char_length(key) BETWEEN {IdempotencyKey.MIN_LENGTH} AND {IdempotencyKey.MAX_LENGTH}",
        name=IDEMPOTENCY_KEY_LENGTH_CHECK,
    ),
    Index(IDEMPOTENCY_EXPIRY_INDEX, "expires_at"),
)
"""One row per idempotency key: the request's hash and the response recorded for it.

Written in the same transaction as the user it created; ``headers`` is a JSON list of
``[name, value]`` pairs. Rows past ``expires_at`` are ignored and purged in batches.
"""
