"""The connection pool: who gets a connection when, what it refuses to hand out again, and its
state as watchers read it (size, in use, overflow, callers waiting)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from user_postgres import ConnectionPool, EngineOptions, PoolClosed, PoolStatus

pytestmark = pytest.mark.anyio


async def close(pool: ConnectionPool) -> None:
    """Close ``pool``, failing rather than hanging if a connection was never returned."""
    await asyncio.wait_for(pool.close(), 5)


async def backend(connection: Any) -> int:
    pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def held_and_awaited(pool: ConnectionPool) -> tuple[Any, int, asyncio.Task[Any]]:
    """A connection checked out (with its backend's pid), and a caller waiting for one."""
    held = await pool.checkout()
    pid = await backend(held)
    waiter = asyncio.create_task(pool.checkout())
    await asyncio.sleep(0.05)  # it starts, and waits
    return held, pid, waiter


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
        pool.checkin(first)
        pool.checkin(await third)
        pool.checkin(second)
        assert pool.status() == PoolStatus(size=1, checked_out=0, overflow=1, waiting=0)
    finally:
        await close(pool)


async def test_a_discarded_connection_is_replaced(single: ConnectionPool) -> None:
    connection = await single.checkout()
    before = await connection.fetchval("SELECT pg_backend_pid()")
    await single.discard(connection)
    single.checkin(connection)
    replacement = await single.checkout()
    assert await replacement.fetchval("SELECT pg_backend_pid()") != before
    single.checkin(replacement)


async def test_a_connection_returned_in_a_transaction_is_closed_not_handed_out(
    single: ConnectionPool,
) -> None:
    careless = await single.checkout()
    before = await backend(careless)
    await careless.execute("BEGIN")
    single.checkin(careless)
    connection = await single.checkout()
    assert await backend(connection) != before
    assert not connection.is_in_transaction()
    single.checkin(connection)
    assert single.status() == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)


async def test_the_caller_waiting_longest_is_served_first(single: ConnectionPool) -> None:
    held = await single.checkout()
    served: list[str] = []

    async def wait(name: str) -> None:
        connection = await single.checkout()
        served.append(name)
        single.checkin(connection)

    waiters = [asyncio.create_task(wait(name)) for name in ("first", "second", "third")]
    await asyncio.sleep(0.05)
    single.checkin(held)
    await asyncio.gather(*waiters)
    assert served == ["first", "second", "third"]


async def test_a_waiting_caller_gets_the_room_of_a_discarded_connection(
    single: ConnectionPool,
) -> None:
    broken, before, waiter = await held_and_awaited(single)
    await single.discard(broken)
    single.checkin(broken)
    replacement = await asyncio.wait_for(waiter, 5)
    assert await backend(replacement) != before
    single.checkin(replacement)
    assert single.status() == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)


async def test_a_connection_handed_to_a_caller_who_gave_up_goes_to_the_next(
    single: ConnectionPool,
) -> None:
    held, pid, impatient = await held_and_awaited(single)
    single.checkin(held)  # handed to the waiting caller...
    impatient.cancel()  # ...who gives up before it runs again
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert single.status() == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)
    connection = await asyncio.wait_for(single.checkout(), 5)
    assert await backend(connection) == pid
    single.checkin(connection)


async def test_a_failed_connect_leaves_its_room_to_the_next_caller() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = ConnectionPool(
        f"postgresql://nobody@127.0.0.1:{port}/nothing",
        EngineOptions(pool_size=1, max_overflow=0, connect_timeout=1),
    )
    try:
        attempts = await asyncio.wait_for(
            asyncio.gather(pool.checkout(), pool.checkout(), return_exceptions=True), 5
        )
        assert [type(error) for error in attempts] == [ConnectionRefusedError] * 2
        assert pool.status() == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)
    finally:
        await close(pool)


async def test_a_connection_unused_for_the_idle_time_is_closed(database_url: str) -> None:
    pool = ConnectionPool(database_url, EngineOptions(pool_size=2), idle_seconds=0.5)
    try:
        first, second = await pool.checkout(), await pool.checkout()
        pool.checkin(first)
        await asyncio.sleep(0.4)
        pool.checkin(second)
        await asyncio.sleep(0.3)  # first unused for 0.7 s, second for 0.3 s
        assert first.is_closed()
        assert not second.is_closed()
        assert pool.status() == PoolStatus(size=2, checked_out=0, overflow=0, waiting=0)
        assert await pool.checkout() is second
        pool.checkin(second)
    finally:
        await close(pool)
    assert second.is_closed()


async def test_closing_waits_for_connections_in_use_and_refuses_callers(
    single: ConnectionPool,
) -> None:
    held, _, waiter = await held_and_awaited(single)
    closing = asyncio.create_task(single.close())
    with pytest.raises(PoolClosed):
        await waiter
    await asyncio.sleep(0.05)
    assert not closing.done()  # held is still in use
    assert await backend(held) > 0
    single.checkin(held)
    await asyncio.wait_for(closing, 5)
    assert held.is_closed()
    with pytest.raises(PoolClosed):
        await single.checkout()
