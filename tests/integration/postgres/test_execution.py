"""The Executor: statements on the driver, values converted, transactions, lost connections."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import BigInteger, LargeBinary, bindparam, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import DateTime

from user_postgres import ConnectionPool, EngineOptions, Executor
from user_postgres.tables import users

pytestmark = pytest.mark.anyio

ECHO = select(
    bindparam("headers", type_=JSONB).label("headers"),
    bindparam("body", type_=LargeBinary).label("body"),
    bindparam("at", type_=DateTime(timezone=True)).label("at"),
).execution_options(operation="echo")
BACKEND = select(func.pg_backend_pid().label("pid")).execution_options(operation="backend")
SLEEP = select(func.pg_sleep(bindparam("seconds")).label("slept"))
ISOLATION = select(func.current_setting("transaction_isolation").label("level"))
INSERT = users.insert().returning(users.c.id)
BY_ID = select(users.c.id).where(users.c.id == bindparam("user_id", type_=BigInteger))


@dataclass
class Recorder:
    """A StatementObserver keeping what it was told."""

    told: list[tuple[str, str, BaseException | None]] = field(default_factory=list)

    def started(self, operation: str, sql: str) -> tuple[str, str]:
        return operation, sql

    def finished(self, token: tuple[str, str], error: BaseException | None) -> None:
        self.told.append((*token, error))


async def test_values_go_in_and_come_out_as_sqlalchemy_would_pass_them(
    pool: ConnectionPool,
) -> None:
    at = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    headers = [["content-type", "application/json"], ["etag", '"1"']]

    async with Executor(pool).connection() as connection:
        (row,) = await connection.fetch(ECHO, {"headers": headers, "body": b"\x00\xff", "at": at})

    assert row["headers"] == headers  # JSONB, serialised by its type and decoded by the codec
    assert row["body"] == b"\x00\xff"
    assert row["at"] == at
    assert row["at"].utcoffset().total_seconds() == 0


async def test_the_observer_is_told_of_each_statement_and_its_error(pool: ConnectionPool) -> None:
    recorder = Recorder()
    executor = Executor(pool, recorder)

    async with executor.connection() as connection:
        await connection.fetch(BACKEND, {})
        with pytest.raises(asyncpg.PostgresError):
            await connection.fetch(SLEEP, {"seconds": "not a number"})

    (operation, sql, error), (unnamed, _, failure) = recorder.told
    assert (operation, error) == ("backend", None)
    assert sql.startswith("SELECT pg_backend_pid()")
    assert unnamed == "other"
    assert isinstance(failure, asyncpg.PostgresError)


async def test_a_cancelled_statement_invalidates_its_connection(single: ConnectionPool) -> None:
    executor = Executor(single)
    async with executor.connection() as connection:
        (before,) = await connection.fetch(BACKEND, {})

    async def sleep() -> None:
        async with executor.connection() as connection:
            await connection.fetch(SLEEP, {"seconds": 10})

    task = asyncio.create_task(sleep())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert single.status().checked_out == 0
    async with executor.connection() as connection:
        (after,) = await connection.fetch(BACKEND, {})
    assert after["pid"] != before["pid"]


@pytest.mark.parametrize("in_a_transaction", [False, True])
async def test_a_statement_past_the_command_timeout_raises_and_replaces_its_connection(
    database_url: str, in_a_transaction: bool
) -> None:
    """The server's own limit off: only the service's bound ends the wait."""
    limit = 0.5
    pool = ConnectionPool(
        database_url,
        EngineOptions(
            pool_size=1, max_overflow=0, statement_timeout_ms=None, command_timeout=limit
        ),
    )
    executor = Executor(pool)
    try:
        async with executor.connection() as connection:
            (before,) = await connection.fetch(BACKEND, {})
        borrowed = (
            executor.transaction("read_committed") if in_a_transaction else executor.connection()
        )
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="did not answer in time"):
            async with borrowed as connection:
                await connection.fetch(SLEEP, {"seconds": 10})
        assert limit <= time.monotonic() - started < limit + 1
        assert pool.status().checked_out == 0
        async with executor.connection() as connection:
            (after,) = await connection.fetch(BACKEND, {})
        assert after["pid"] != before["pid"]
    finally:
        await pool.close()


async def test_a_server_error_leaves_the_connection_in_the_pool(single: ConnectionPool) -> None:
    executor = Executor(single)
    async with executor.connection() as connection:
        (before,) = await connection.fetch(BACKEND, {})
        with pytest.raises(asyncpg.PostgresError):
            await connection.fetch(SLEEP, {"seconds": "not a number"})
        assert not connection.invalidated

    async with executor.connection() as connection:
        (after,) = await connection.fetch(BACKEND, {})
    assert after["pid"] == before["pid"]


def user_values(name: str) -> dict[str, Any]:
    return {"name": name, "name_key": name, "created_at": datetime.now(UTC)}


async def test_a_transaction_commits_at_the_end_of_its_block(pool: ConnectionPool) -> None:
    executor = Executor(pool)
    async with executor.transaction("read_committed") as connection:
        (level,) = await connection.fetch(ISOLATION, {})
        (row,) = await connection.fetch(INSERT, user_values("committed"))

    assert level["level"] == "read committed"
    async with executor.connection() as connection:
        assert await connection.fetch(BY_ID, {"user_id": row["id"]}) != []


async def test_a_transaction_rolls_back_when_its_block_raises(pool: ConnectionPool) -> None:
    executor = Executor(pool)
    inserted: list[int] = []

    async def insert_then_fail() -> None:
        async with executor.transaction("read_committed") as connection:
            (row,) = await connection.fetch(INSERT, user_values("rolled back"))
            inserted.append(row["id"])
            raise LookupError

    with pytest.raises(LookupError):
        await insert_then_fail()

    async with executor.connection() as connection:
        assert await connection.fetch(BY_ID, {"user_id": inserted[0]}) == []


async def test_a_read_only_transaction_refuses_writes(single: ConnectionPool) -> None:
    executor = Executor(single)
    levels = []

    async def write() -> None:
        async with executor.transaction("repeatable_read", readonly=True) as connection:
            levels.extend(await connection.fetch(ISOLATION, {}))
            await connection.fetch(INSERT, user_values("read only"))

    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
        await write()

    assert [level["level"] for level in levels] == ["repeatable read"]

    async with executor.connection() as connection:  # rolled back: the connection is usable
        assert await connection.fetch(BACKEND, {}) != []
