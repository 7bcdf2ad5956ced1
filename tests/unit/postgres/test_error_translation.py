"""Database failures as the core's errors: what the driver raises on its own maps like the rest.

Since single statements run on the asyncpg connection directly, asyncpg's own exceptions reach
the translation unwrapped; the fault tests (``e2e/test_database_faults.py``) saw a statement
timeout and a closed connection become 500s before they were mapped.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import exc as sa_exc

from user_core import FieldTaken, StorageUnavailable
from user_postgres.error_translation import translate
from user_postgres.tables import EMAIL_KEY_UNIQUE


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients already"),
        asyncpg.exceptions.ReadOnlySQLTransactionError("read-only transaction"),
        asyncpg.exceptions.SerializationError("could not serialize access"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionRefusedError(),
        FileNotFoundError(),  # the Unix socket of a stopped server
        TimeoutError(),  # connect_timeout, command_timeout
        sa_exc.TimeoutError("QueuePool limit reached"),  # pool_timeout
    ],
    ids=type,
)
def test_what_means_not_now_is_storage_unavailable(error: Exception) -> None:
    assert isinstance(translate(error), StorageUnavailable)


def test_a_unique_violation_raised_by_the_driver_names_its_field() -> None:
    error = asyncpg.exceptions.UniqueViolationError("duplicate key value")
    error.constraint_name = EMAIL_KEY_UNIQUE
    translated = translate(error)
    assert isinstance(translated, FieldTaken)
    assert translated.field == "email"


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.PostgresSyntaxError("syntax error"),
        asyncpg.exceptions.UndefinedTableError('relation "users" does not exist'),
        asyncpg.exceptions.DataError("invalid input for query argument $1"),
        ValueError("a bug"),
    ],
    ids=type,
)
def test_a_bug_is_not_disguised_as_an_outage(error: Exception) -> None:
    assert translate(error) is None
