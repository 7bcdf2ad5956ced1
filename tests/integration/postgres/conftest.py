"""Fixtures of the PostgreSQL adapter's integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from user_postgres import ConnectionPool, EngineOptions


@pytest.fixture
async def single(database_url: str) -> AsyncIterator[ConnectionPool]:
    """A pool of one connection, so that a replaced connection shows; closed after the test,
    failing rather than hanging if a connection was never returned."""
    pool = ConnectionPool(database_url, EngineOptions(pool_size=1, max_overflow=0))
    yield pool
    await asyncio.wait_for(pool.close(), 5)
