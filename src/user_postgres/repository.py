"""The :class:`~user_core.ports.UserRepository` port on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from time import perf_counter
from typing import Any, Protocol

from asyncpg import PostgresError  # type: ignore[import-untyped]
from sqlalchemy import CursorResult, Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection

from user_core.errors import IdempotencyKeyReused, UserNotFound, VersionMismatch
from user_core.idempotency import IdempotentRequest, RecordedResponse
from user_core.model import User, UserChanges, UserDraft
from user_core.pagination import Cursor, Page, PageRequest
from user_postgres import _statements as sql
from user_postgres._driver import StatementCache, checkin, checkout, invalidate
from user_postgres._errors import TranslateErrors
from user_postgres._rows import changed_columns, draft_columns, user_from_row

_BIGINT_MAX = 2**63 - 1
_translate_errors = TranslateErrors()

_Execute = Callable[[AsyncConnection, Executable, Mapping[str, Any]], Awaitable[CursorResult[Any]]]
_Run = Callable[[Executable, Mapping[str, Any]], Awaitable[Sequence[Any]]]
"""Runs one statement on a checked-out connection; its rows."""


class StatementObserver(Protocol):
    """Told of each statement the repository runs: the operation it names, and how long it took.

    Called in the event loop once the statement's rows have arrived, or it failed; it must be
    quick and must not raise. The operation is the statement's
    :data:`~user_postgres.OPERATION_OPTION` (``insert_user``, ``get_user``, …).
    """

    def __call__(self, operation: str, seconds: float) -> None:
        """Record one statement."""
        ...


class PostgresUserRepository:
    """Users in the ``users`` table (see :mod:`user_postgres.tables`), through an asyncpg pool.

    Every write is a single statement, atomic on its own, so statements run in autocommit mode
    without BEGIN and COMMIT round trips. The unique constraints on the name and email keys and
    the ``version = :expected`` condition are checked by that same statement, so concurrent
    callers can never both win. A write that matched no row is explained by one more query
    (no such user, else a version mismatch). Database errors become ``FieldTaken`` (by
    constraint name) or ``StorageUnavailable``; nothing else is caught.

    An ``observer``, if given, times every statement (for metrics): a couple of clock readings,
    far cheaper than listening to the engine's events, which slows every statement down.

    Single statements run on the asyncpg connection itself (see :mod:`user_postgres._driver`):
    SQLAlchemy's execution layer cost more CPU than the round trip. While something listens to
    the engine's cursor events (statement spans when tracing), they run through SQLAlchemy, so
    that the listeners see them; so do transactions (idempotent creation, a counted page).
    """

    def __init__(self, engine: AsyncEngine, observer: StatementObserver | None = None) -> None:
        self._execute = _execute if observer is None else _timed(observer)
        self._observer = observer
        self._pooled_engine = engine
        self._compiled = StatementCache(engine.dialect)
        self._cursor_events = engine.sync_engine.dispatch.before_cursor_execute
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        # Idempotent creation writes the user and the key's record in one transaction; READ
        # COMMITTED lets its look-up, made once the key is held, see what the last holder wrote.
        self._transactional = engine.execution_options(isolation_level="READ COMMITTED")
        # A page and its total must be counted in one snapshot.
        self._snapshot = engine.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )

    def _connection(self) -> AbstractAsyncContextManager[_Run]:
        """A pooled connection, as a function running one statement on it at a time."""
        if self._cursor_events:
            return _SqlAlchemyCheckout(self._engine, self._execute)
        return _DriverCheckout(self._pooled_engine, self._compiled, self._observer)

    async def add(self, draft: UserDraft, now: datetime) -> User:
        """See :meth:`UserRepository.add`."""
        parameters = draft_columns(draft)
        parameters["created_at"] = now
        with _translate_errors:
            async with self._connection() as run:
                row = (await run(sql.INSERT, parameters))[0]
        return user_from_row(row)

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
            async with self._transactional.begin() as connection:
                await self._execute(connection, sql.LOCK_IDEMPOTENCY_KEY, {"key": key})
                found = await self._execute(
                    connection, sql.SELECT_IDEMPOTENCY_RECORD, {"key": key, "now": now}
                )
                record = found.one_or_none()
                if record is not None:
                    if record.request_hash != request.fingerprint:
                        raise IdempotencyKeyReused(key)
                    headers = tuple((name, value) for name, value in record.headers)
                    return RecordedResponse(record.status, headers, record.body)
                parameters = draft_columns(draft)
                parameters["created_at"] = now
                inserted = await self._execute(connection, sql.INSERT, parameters)
                user = user_from_row(inserted.mappings().one())
                response = respond(user)
                await self._execute(
                    connection,
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
            async with self._engine.connect() as connection:
                result = await self._execute(
                    connection, sql.PURGE_IDEMPOTENCY_KEYS, {"now": now, "limit": limit}
                )
        return result.rowcount

    async def get(self, user_id: int) -> User | None:
        """See :meth:`UserRepository.get`."""
        if not _fits_bigint(user_id):
            return None
        with _translate_errors:
            async with self._connection() as run:
                rows = await run(sql.SELECT_BY_ID, {"user_id": user_id})
        return user_from_row(rows[0]) if rows else None

    async def update(
        self, user_id: int, changes: UserChanges, expected_version: int | None, now: datetime
    ) -> User:
        """See :meth:`UserRepository.update`."""
        parameters = changed_columns(changes)
        parameters["updated_at"] = now
        with _translate_errors:
            async with self._connection() as run:
                statement = sql.UPDATE if expected_version is None else sql.UPDATE_IF_VERSION
                row = await _write_one(run, statement, user_id, expected_version, parameters)
        return user_from_row(row)

    async def delete(self, user_id: int, expected_version: int | None) -> None:
        """See :meth:`UserRepository.delete`."""
        with _translate_errors:
            async with self._connection() as run:
                statement = sql.DELETE if expected_version is None else sql.DELETE_IF_VERSION
                await _write_one(run, statement, user_id, expected_version, {})

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
                async with self._snapshot.begin() as connection:
                    rows = (
                        (await self._execute(connection, sql.PAGE[filters], parameters))
                        .mappings()
                        .all()
                    )
                    counted = await self._execute(connection, sql.COUNT[filters], parameters)
                    total = counted.scalar_one()
            else:
                async with self._connection() as run:
                    rows = await run(sql.PAGE[filters], parameters)
        users = [user_from_row(row) for row in rows[: request.limit]]
        more = len(rows) > request.limit
        return Page(users=users, next_cursor=Cursor(users[-1].id) if more else None, total=total)


async def _execute(
    connection: AsyncConnection, statement: Executable, parameters: Mapping[str, Any]
) -> CursorResult[Any]:
    return await connection.execute(statement, parameters)


def _timed(observer: StatementObserver) -> _Execute:
    async def execute(
        connection: AsyncConnection, statement: Executable, parameters: Mapping[str, Any]
    ) -> CursorResult[Any]:
        started = perf_counter()
        try:
            return await connection.execute(statement, parameters)
        finally:
            operation = statement.get_execution_options().get(sql.OPERATION_OPTION, "other")
            observer(operation, perf_counter() - started)

    return execute


class _SqlAlchemyRun:
    """Statements through SQLAlchemy's execution layer, which its event listeners see."""

    __slots__ = ("_connection", "_execute")

    def __init__(self, connection: AsyncConnection, execute: _Execute) -> None:
        self._connection = connection
        self._execute = execute

    async def __call__(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any]:
        return (await self._execute(self._connection, statement, parameters)).mappings().all()


class _SqlAlchemyCheckout:
    """A connection checked out through the engine, for :class:`_SqlAlchemyRun`."""

    __slots__ = ("_connection", "_execute")

    def __init__(self, engine: AsyncEngine, execute: _Execute) -> None:
        self._connection = engine.connect()
        self._execute = execute

    async def __aenter__(self) -> _Run:
        return _SqlAlchemyRun(await self._connection.__aenter__(), self._execute)

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._connection.__aexit__(*exc_info)


class _DriverCheckout:
    """A connection straight from the engine's pool, running statements on its asyncpg connection.

    Checking out from the pool itself skips the engine's ``Connection`` and ``AsyncConnection``
    wrappers, which a bare statement on the driver does not use and which cost about 12 of the
    42 µs of CPU that a checkout and return take through the engine (``benchmarks.checkout``).
    The pool still owns the connection: it hands it out, pings it when configured to, takes it
    back and resets it, or discards it once invalidated.
    """

    __slots__ = ("_compiled", "_engine", "_observer", "_pooled")

    def __init__(
        self, engine: AsyncEngine, compiled: StatementCache, observer: StatementObserver | None
    ) -> None:
        self._engine = engine
        self._compiled = compiled
        self._observer = observer

    async def __aenter__(self) -> _Run:
        self._pooled = await checkout(self._engine)
        return _DriverRun(self._pooled, self._compiled, self._observer)

    async def __aexit__(self, *exc_info: object) -> None:
        await checkin(self._pooled)


class _DriverRun:
    """Statements on the asyncpg connection of a pooled connection."""

    __slots__ = ("_compiled", "_driver", "_observer", "_pooled")

    def __init__(
        self,
        pooled: PoolProxiedConnection,
        compiled: StatementCache,
        observer: StatementObserver | None,
    ) -> None:
        self._pooled = pooled
        self._driver: Any = pooled.driver_connection  # asyncpg's Connection: untyped
        self._compiled = compiled
        self._observer = observer

    async def __call__(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any]:
        compiled = self._compiled.get(statement, parameters)
        started = perf_counter()
        try:
            rows: Sequence[Any] = await self._driver.fetch(
                compiled.sql, *compiled.arguments(parameters)
            )
        except PostgresError as error:
            if error.sqlstate.startswith("08"):  # the connection is gone
                await invalidate(self._pooled, error)
            raise
        except BaseException as error:
            # Lost, timed out or cancelled mid-statement: the connection's state is unknown, so
            # the pool must not hand it out again.
            await invalidate(self._pooled, error if isinstance(error, Exception) else None)
            raise
        finally:
            if self._observer is not None:
                self._observer(compiled.operation, perf_counter() - started)
        return rows


async def _write_one(
    run: _Run,
    statement: Executable,
    user_id: int,
    expected_version: int | None,
    parameters: dict[str, Any],
) -> Any:
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
        rows = await run(statement, parameters)
        if rows:
            return rows[0]
    actual = None
    if _fits_bigint(user_id):
        versions = await run(sql.SELECT_VERSION, {"user_id": user_id})
        actual = versions[0]["version"] if versions else None
    if actual is None or expected_version is None:
        raise UserNotFound(user_id)
    raise VersionMismatch(user_id, expected_version, actual)


def _holds_nul(text: str | None) -> bool:
    return text is not None and "\x00" in text


def _fits_bigint(number: int) -> bool:
    return -_BIGINT_MAX - 1 <= number <= _BIGINT_MAX
