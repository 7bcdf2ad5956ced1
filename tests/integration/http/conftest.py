"""The HTTP suite of ``tests/unit/http`` again, through the real composition root on PostgreSQL.

Every fixture of the unit suite is reused; only ``app`` changes: the application the service
really runs (``user_service.asgi.create_application``) on a real database. The tests of this
folder share one migrated database, emptied before each test (a TRUNCATE takes milliseconds,
a fresh database a quarter of a second).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import text
from starlette.applications import Starlette

from tests.unit.http.conftest import client, make_user, problem  # noqa: F401 (fixtures)
from user_postgres import create_engine
from user_postgres.testing import ScratchDatabases
from user_service.asgi import create_application
from user_service.container import Container
from user_service.settings import Settings


@pytest.fixture(scope="module")
def shared_database_url(scratch_databases: ScratchDatabases) -> Iterator[str]:
    """One migrated database for the tests of a module."""
    url = asyncio.run(scratch_databases.create())
    yield url
    asyncio.run(scratch_databases.drop(url))


@pytest.fixture
def empty_database_url(shared_database_url: str) -> str:
    """The shared database, with every user removed."""

    async def truncate() -> None:
        engine = create_engine(shared_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE users, idempotency_keys RESTART IDENTITY"))
        finally:
            await engine.dispose()

    asyncio.run(truncate())
    return shared_database_url


@pytest.fixture
def app(empty_database_url: str) -> Starlette:
    """The service's own application on an empty database; its lifespan closes the pool."""
    container = Container()
    container.settings.override(
        Settings(database_url=SecretStr(empty_database_url), migrate_on_start=False)
    )
    return create_application(container)
