"""Every statement the repository runs, built once at import time.

:class:`~user_postgres.execution.Executor` compiles each statement once and asyncpg keeps each
prepared per connection, so a call only binds parameters. INSERT and UPDATE take their column
values from the parameters a statement is run with: an UPDATE sets exactly the columns whose
values it is given.

Each statement names its operation in the execution option :data:`OPERATION_OPTION`, so that an
observer of statements (metrics, traces) can tell them apart without parsing SQL.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar, TypeVarTuple

from sqlalchemy import BigInteger, Executable, Select, bindparam, func, select
from sqlalchemy import delete as delete_from
from sqlalchemy import insert as insert_into
from sqlalchemy import update as update_of
from sqlalchemy.dialects.postgresql import insert as upsert_into

from user_core.model import USER_FIELDS
from user_postgres.tables import idempotency_keys, users

USER_COLUMNS: Final = (
    users.c.id,
    *(users.c[field.name] for field in USER_FIELDS),
    users.c.created_at,
    users.c.updated_at,
    users.c.version,
)
"""What a :class:`~user_core.model.User` is read from (by name, in ``user_from_row``)."""

OPERATION_OPTION: Final = "operation"
"""The execution option naming what a statement does (``get_user``, ``list_users``, …)."""

_Ts = TypeVarTuple("_Ts")
_Statement = TypeVar("_Statement", bound=Executable)


def _named(operation: str, statement: _Statement) -> _Statement:
    return statement.execution_options(**{OPERATION_OPTION: operation})


_user_id = bindparam("user_id", type_=BigInteger)
_expected_version = bindparam("expected_version", type_=BigInteger)

INSERT: Final = _named("insert_user", insert_into(users).returning(*USER_COLUMNS))
"""Parameters: the new user's columns (see ``rows.columns``) and ``created_at``."""

SELECT_BY_ID: Final = _named("get_user", select(*USER_COLUMNS).where(users.c.id == _user_id))
"""Parameter: ``user_id``."""

SELECT_VERSION: Final = _named(
    "get_user_version", select(users.c.version).where(users.c.id == _user_id)
)
"""Parameter: ``user_id``; tells a missing user from a version mismatch after a missed write."""

_update = _named(
    "update_user",
    update_of(users)
    .where(users.c.id == _user_id)
    .values(version=users.c.version + 1)
    .returning(*USER_COLUMNS),
)
UPDATE: Final = _update
"""Parameters: ``user_id``, ``updated_at`` and the changed columns (see ``rows.columns``)."""
UPDATE_IF_VERSION: Final = _update.where(users.c.version == _expected_version)
"""As :data:`UPDATE`, plus ``expected_version``."""

DELETE: Final = _named(
    "delete_user", delete_from(users).where(users.c.id == _user_id).returning(users.c.id)
)
"""Parameter: ``user_id``."""
DELETE_IF_VERSION: Final = DELETE.where(users.c.version == _expected_version)
"""Parameters: ``user_id`` and ``expected_version``."""


def _filtered(statement: Select[*_Ts], by_name: bool, by_email: bool) -> Select[*_Ts]:
    if by_name:
        statement = statement.where(users.c.name_key == bindparam("name_filter"))
    if by_email:
        statement = statement.where(users.c.email_key == bindparam("email_filter"))
    return statement


def _page(by_name: bool, by_email: bool) -> Select[*tuple[Any, ...]]:
    # Keyset on the primary key: cost independent of depth. LIMIT and OFFSET are parameters so
    # that one prepared statement serves every page size.
    statement = select(*USER_COLUMNS).where(users.c.id > bindparam("after_id", type_=BigInteger))
    return _named(
        "list_users",
        _filtered(statement, by_name, by_email)
        .order_by(users.c.id)
        .limit(bindparam("limit", type_=BigInteger))
        .offset(bindparam("offset", type_=BigInteger)),
    )


# One statement per combination of filters rather than "(:filter IS NULL OR …)", which would
# keep PostgreSQL's generic plan from using the key indexes.
_FILTERS: Final = [(by_name, by_email) for by_name in (False, True) for by_email in (False, True)]

PAGE: Final = {filters: _page(*filters) for filters in _FILTERS}
"""By (filter by name, filter by email). Parameters: ``after_id``, ``limit``, ``offset`` and
``name_filter``/``email_filter`` (keys) when filtering."""

COUNT: Final = {
    filters: _named(
        "count_users",
        _filtered(select(func.count().label("total")).select_from(users), *filters),
    )
    for filters in _FILTERS
}
"""By (filter by name, filter by email): how many users match. Parameters as for :data:`PAGE`."""

_keys = idempotency_keys

LOCK_IDEMPOTENCY_KEY: Final = _named(
    "lock_idempotency_key",
    # Transaction-scoped: released by COMMIT or ROLLBACK, so PgBouncer's transaction mode is fine.
    # A hash collision only makes two keys wait for each other, never mixes them up.
    select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("key"), 0))),
)
"""Parameter: ``key``. Waits until no other transaction holds the key, then holds it."""

SELECT_IDEMPOTENCY_RECORD: Final = _named(
    "get_idempotency_key",
    select(_keys.c.request_hash, _keys.c.status, _keys.c.headers, _keys.c.body).where(
        _keys.c.key == bindparam("key"), _keys.c.expires_at > bindparam("now")
    ),
)
"""Parameters: ``key`` and ``now``; the live record of the key, if any."""

_insert_record = upsert_into(_keys)
INSERT_IDEMPOTENCY_RECORD: Final = _named(
    "insert_idempotency_key",
    # An expired record that the purge has not reached yet is replaced.
    _insert_record.on_conflict_do_update(
        index_elements=[_keys.c.key],
        set_={
            column: _insert_record.excluded[column]
            for column in (
                "request_hash",
                "status",
                "headers",
                "body",
                "user_id",
                "created_at",
                "expires_at",
            )
        },
    ),
)
"""Parameters: every column of :data:`~user_postgres.tables.idempotency_keys`."""

_expired_keys = (
    select(_keys.c.key)
    .where(_keys.c.expires_at <= bindparam("now"))
    .order_by(_keys.c.expires_at)
    .limit(bindparam("limit", type_=BigInteger))
    .with_for_update(skip_locked=True)
)
_purged = (
    delete_from(_keys).where(_keys.c.key.in_(_expired_keys)).returning(_keys.c.key).cte("purged")
)
PURGE_IDEMPOTENCY_KEYS: Final = _named(
    "purge_idempotency_keys", select(func.count().label("purged")).select_from(_purged)
)
"""Parameters: ``now`` and ``limit``. Skips rows that a creation holds (SKIP LOCKED); one row,
``purged``: how many records it deleted."""
