"""Database failures translated into the core's errors, at the adapter's boundary."""

from __future__ import annotations

from types import TracebackType
from typing import Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

from user_core.errors import FieldTaken, StorageUnavailable, UserServiceError
from user_core.model import USER_FIELDS
from user_postgres.pool import PoolTimeout
from user_postgres.tables import key_unique_constraint

_FIELD_BY_CONSTRAINT: Final = {
    key_unique_constraint(field.name): field.name for field in USER_FIELDS if field.unique
}
_UNIQUE_VIOLATION: Final = "23505"
# SQLSTATE classes meaning "not now": connection exception, insufficient resources, operator
# intervention (statement_timeout's query_canceled, admin_shutdown, cannot_connect_now while the
# server starts or stops), system error.
_UNAVAILABLE_CLASSES: Final = ("08", "53", "57", "58")
# Single states a retry cures: serialization failure, deadlock, lock_timeout, and a write that
# reached a read-only standby during a failover.
_UNAVAILABLE_STATES: Final = frozenset({"40001", "40P01", "55P03", "25006"})


class TranslateErrors:
    """``with TranslateErrors():`` turns database failures raised inside into domain errors.

    A unique violation of a key constraint becomes :class:`FieldTaken`; anything meaning that the
    database cannot answer now becomes :class:`StorageUnavailable`. Anything else (a bug) passes
    through unchanged, and so do the core's own errors. Stateless, so one instance serves all.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is None or isinstance(error, UserServiceError):
            return
        translated = translate(error)
        if translated is not None:
            raise translated from error


def translate(error: BaseException) -> UserServiceError | None:  # noqa: PLR0911 (a table of cases)
    """The domain error that ``error`` means, or ``None`` if it means a bug."""
    if isinstance(error, PoolTimeout | sa_exc.TimeoutError):  # none free within pool_timeout
        return StorageUnavailable("no database connection became free in time")
    # Raised through SQLAlchemy's execution layer, or by the driver itself (statements that the
    # repository runs on the asyncpg connection directly).
    if isinstance(error, sa_exc.DBAPIError | asyncpg.PostgresError):
        sqlstate = _find(error, "sqlstate")
        if sqlstate == _UNIQUE_VIOLATION:
            field = _FIELD_BY_CONSTRAINT.get(_find(error, "constraint_name") or "")
            return None if field is None else FieldTaken(field)
        invalidated = isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
        if invalidated or _means_unavailable(sqlstate):
            return StorageUnavailable(f"database unavailable (SQLSTATE {sqlstate})")
        return None
    # The driver's own complaints about the connection's state (closed, or left mid-operation by
    # a server that ended it); DataError is an argument the driver refused, a bug.
    if isinstance(
        error, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError
    ) and not isinstance(error, asyncpg.DataError):
        return StorageUnavailable(f"database connection lost: {type(error).__name__}")
    # The driver's connect timeout or command timeout: the server did not answer in time.
    if isinstance(error, TimeoutError):
        return StorageUnavailable("the database did not answer in time")
    # Raised by the driver itself while connecting: refused, no such socket.
    if isinstance(error, OSError):
        return StorageUnavailable(f"cannot reach the database: {type(error).__name__}")
    return None


def _means_unavailable(sqlstate: str | None) -> bool:
    return sqlstate is not None and (
        sqlstate.startswith(_UNAVAILABLE_CLASSES) or sqlstate in _UNAVAILABLE_STATES
    )


def _find(error: BaseException, attribute: str) -> str | None:
    # SQLAlchemy wraps its emulated DBAPI error, which wraps asyncpg's: look down the chain.
    cause: BaseException | None = error
    while cause is not None:
        value = getattr(cause, attribute, None)
        if isinstance(value, str):
            return value
        cause = cause.__cause__
    return None
