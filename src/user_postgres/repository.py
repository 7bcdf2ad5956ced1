"""The :class:`~user_core.ports.UserRepository` port on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Executable

from user_core.errors import IdempotencyKeyReused, UserNotFound, VersionMismatch
from user_core.idempotency import IdempotentRequest, RecordedResponse
from user_core.model import User, UserChanges, UserDraft
from user_core.pagination import Cursor, Page, PageRequest
from user_postgres import statements as sql
from user_postgres.error_translation import TranslateErrors
from user_postgres.execution import Connection, Executor, Row, StatementObserver
from user_postgres.pool import ConnectionPool
from user_postgres.rows import columns, user_from_row

_BIGINT_MAX = 2**63 - 1
_translate_errors = TranslateErrors()


class PostgresUserRepository:
    """Users in the ``users`` table (see :mod:`user_postgres.tables`), through ``pool``.

    Every write is a single statement, atomic on its own, so statements run in autocommit mode
    without BEGIN and COMMIT round trips. The unique constraints on the name and email keys and
    the ``version = :expected`` condition are checked by that same statement, so concurrent
    callers can never both win. A write that matched no row is explained by one more query
    (no such user, else a version mismatch). Database errors become ``FieldTaken`` (by
    constraint name) or ``StorageUnavailable``; nothing else is caught.

    Statements run through an :class:`~user_postgres.execution.Executor`, which tells
    ``observer``, if given, of each one (metrics, traces).
    """

    def __init__(
        self, pool: ConnectionPool, observer: StatementObserver[Any] | None = None
    ) -> None:
        self._database = Executor(pool, observer)

    async def add(self, draft: UserDraft, now: datetime) -> User:
        """See :meth:`UserRepository.add`."""
        values = draft.field_values()
        parameters = columns(values)
        parameters["created_at"] = now
        with _translate_errors:
            (row,) = await self._database.fetch(sql.INSERT, parameters)
        return user_from_row(row, values)

    async def add_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
        now: datetime,
        expires_at: datetime,
    ) -> RecordedResponse:
        """See :meth:`UserRepository.add_once`.

        One transaction: hold the key (a transaction-level advisory lock, so a concurrent request
        with the same key waits here until this one commits or rolls back), look its live record
        up, and either answer from it or insert the user and the record. A failure rolls both
        back. Waiting counts against ``statement_timeout``, past which the caller gets
        ``StorageUnavailable``.
        """
        key = request.key.value
        with _translate_errors:
            # READ COMMITTED lets the look-up, made once the key is held, see what the last holder
            # of the key committed.
            async with self._database.transaction("read_committed") as connection:
                await connection.fetch(sql.LOCK_IDEMPOTENCY_KEY, {"key": key})
                found = await connection.fetch(
                    sql.SELECT_IDEMPOTENCY_RECORD, {"key": key, "now": now}
                )
                if found:
                    (record,) = found
                    if record["request_hash"] != request.fingerprint:
                        raise IdempotencyKeyReused(key)
                    headers = tuple((name, value) for name, value in record["headers"])
                    return RecordedResponse(record["status"], headers, record["body"])
                values = draft.field_values()
                parameters = columns(values)
                parameters["created_at"] = now
                (row,) = await connection.fetch(sql.INSERT, parameters)
                user = user_from_row(row, values)
                response = respond(user)
                await connection.fetch(
                    sql.INSERT_IDEMPOTENCY_RECORD,
                    {
                        "key": key,
                        "request_hash": request.fingerprint,
                        "status": response.status,
                        "headers": [list(pair) for pair in response.headers],
                        "body": response.body,
                        "user_id": user.id,
                        "created_at": now,
                        "expires_at": expires_at,
                    },
                )
        return response

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """See :meth:`UserRepository.purge_expired`: one DELETE of a batch, skipping held rows."""
        with _translate_errors:
            (purged,) = await self._database.fetch(
                sql.PURGE_IDEMPOTENCY_KEYS, {"now": now, "limit": limit}
            )
        count: int = purged["purged"]
        return count

    async def get(self, user_id: int) -> User | None:
        """See :meth:`UserRepository.get`."""
        if not _fits_bigint(user_id):
            return None
        with _translate_errors:
            rows = await self._database.fetch(sql.SELECT_BY_ID, {"user_id": user_id})
        return user_from_row(rows[0]) if rows else None

    async def update(
        self, user_id: int, changes: UserChanges, expected_version: int | None, now: datetime
    ) -> User:
        """See :meth:`UserRepository.update`."""
        values = changes.field_values()
        parameters = columns(values)
        parameters["updated_at"] = now
        with _translate_errors:
            async with self._database.connection() as connection:
                statement = sql.UPDATE if expected_version is None else sql.UPDATE_IF_VERSION
                row = await _write_one(connection, statement, user_id, expected_version, parameters)
        return user_from_row(row, values)

    async def delete(self, user_id: int, expected_version: int | None) -> None:
        """See :meth:`UserRepository.delete`."""
        with _translate_errors:
            async with self._database.connection() as connection:
                statement = sql.DELETE if expected_version is None else sql.DELETE_IF_VERSION
                await _write_one(connection, statement, user_id, expected_version, {})

    async def list(self, request: PageRequest) -> Page:
        """See :meth:`UserRepository.list`."""
        name_key, email_key = request.name_key, request.email_key
        if _holds_nul(name_key) or _holds_nul(email_key):
            # No text column holds NUL (PostgreSQL refuses it as a parameter): nothing matches.
            return Page(users=[], total=0 if request.with_total else None)
        filters = (name_key is not None, email_key is not None)
        parameters: dict[str, Any] = {
            "after_id": request.after_id,
            "limit": request.limit + 1,  # one more tells whether a next page exists
            "offset": request.offset,
            "name_filter": name_key,
            "email_filter": email_key,
        }
        total: int | None = None
        with _translate_errors:
            if request.with_total:
                # A page and its total are counted in one snapshot.
                snapshot = self._database.transaction("repeatable_read", readonly=True)
                async with snapshot as connection:
                    rows = await connection.fetch(sql.PAGE[filters], parameters)
                    (counted,) = await connection.fetch(sql.COUNT[filters], parameters)
                    total = counted["total"]
            else:
                rows = await self._database.fetch(sql.PAGE[filters], parameters)
        users = [user_from_row(row) for row in rows[: request.limit]]
        more = len(rows) > request.limit
        return Page(users=users, next_cursor=Cursor(users[-1].id) if more else None, total=total)


async def _write_one(
    connection: Connection,
    statement: Executable,
    user_id: int,
    expected_version: int | None,
    parameters: dict[str, Any],
) -> Row:
    """Run a conditional write of one user; return its RETURNING row, or raise why there is none.

    Not found takes precedence over a version mismatch, which takes precedence over a taken name
    or email: a write whose WHERE matched no row never reaches the unique checks.
    """
    storable = _fits_bigint(user_id) and (
        expected_version is None or _fits_bigint(expected_version)
    )
    if storable:  # else no row can match, and the driver would refuse the number
        parameters["user_id"] = user_id
        if expected_version is not None:
            parameters["expected_version"] = expected_version
        rows = await connection.fetch(statement, parameters)
        if rows:
            return rows[0]
    actual = None
    if _fits_bigint(user_id):
        versions = await connection.fetch(sql.SELECT_VERSION, {"user_id": user_id})
        actual = versions[0]["version"] if versions else None
    if actual is None or expected_version is None:
        raise UserNotFound(user_id)
    raise VersionMismatch(user_id, expected_version, actual)


def _holds_nul(text: str | None) -> bool:
    return text is not None and "\x00" in text


def _fits_bigint(number: int) -> bool:
    return -_BIGINT_MAX - 1 <= number <= _BIGINT_MAX
