"""The pool's state as watchers read it: size, in use, overflow, and callers waiting."""

from __future__ import annotations

import asyncio

import pytest

from user_postgres import ConnectionPool, EngineOptions, PoolStatus

pytestmark = pytest.mark.anyio


async def test_the_pool_counts_connections_in_use_beyond_its_size_and_callers_waiting(
    database_url: str,
) -> None:
    pool = ConnectionPool(database_url, EngineOptions(pool_size=1, max_overflow=1))
    try:
        assert pool.status() == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)
        first, second = await pool.checkout(), await pool.checkout()
        assert pool.status() == PoolStatus(size=1, checked_out=2, overflow=1, waiting=0)

        third = asyncio.create_task(pool.checkout())
        await asyncio.sleep(0.05)  # it starts, and waits for one of ours
        assert pool.status() == PoolStatus(size=1, checked_out=2, overflow=1, waiting=1)
        await pool.checkin(first)
        await pool.checkin(await third)
        await pool.checkin(second)
        assert pool.status() == PoolStatus(size=1, checked_out=0, overflow=1, waiting=0)
    finally:
        await pool.close()


async def test_a_discarded_connection_is_replaced(database_url: str) -> None:
    pool = ConnectionPool(database_url, EngineOptions(pool_size=1, max_overflow=0))
    try:
        connection = await pool.checkout()
        before = await connection.fetchval("SELECT pg_backend_pid()")
        await pool.discard(connection)
        await pool.checkin(connection)
        replacement = await pool.checkout()
        assert await replacement.fetchval("SELECT pg_backend_pid()") != before
        await pool.checkin(replacement)
    finally:
        await pool.close()
