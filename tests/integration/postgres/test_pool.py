"""The pool's state as watchers read it: size, in use, overflow, and callers waiting."""

from __future__ import annotations

import asyncio

import pytest

from user_postgres import EngineOptions, PoolStatus, create_engine, pool_status

pytestmark = pytest.mark.anyio


async def test_the_pool_counts_connections_in_use_beyond_its_size_and_callers_waiting(
    database_url: str,
) -> None:
    engine = create_engine(database_url, EngineOptions(pool_size=1, max_overflow=1))
    checked_in = asyncio.Event()
    try:
        assert pool_status(engine) == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)
        async with engine.connect(), engine.connect():
            assert pool_status(engine) == PoolStatus(size=1, checked_out=2, overflow=1, waiting=0)

            async def third() -> None:
                async with engine.connect():
                    checked_in.set()

            waiter = asyncio.create_task(third())
            await asyncio.sleep(0.05)  # it starts, and waits for one of ours
            assert pool_status(engine) == PoolStatus(size=1, checked_out=2, overflow=1, waiting=1)
        await waiter
        assert checked_in.is_set()
        assert pool_status(engine) == PoolStatus(size=1, checked_out=0, overflow=0, waiting=0)
    finally:
        await engine.dispose()
