"""RemoteUserService over real TCP to the real server on PostgreSQL passes the use-case contract.

The third deployment of the one behaviour suite (in memory: ``tests/unit/core/test_use_cases.py``;
on PostgreSQL: ``tests/integration/postgres/test_use_cases.py``). One ``user-service serve``
process for the module; before each test its database is emptied (as the repository contract
empties its own), so every test starts from no users and no idempotency keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from e2e.server import RunningServer, start_server
from user_client import RemoteUserService
from user_core import UserUseCases
from user_core.testing.use_cases import UseCasesFactory, UserUseCasesContract
from user_postgres.testing import ScratchDatabases, empty_repository


@pytest.fixture(scope="module")
def served_database(
    scratch_databases: ScratchDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    """The server and the URL of its database (the test empties it between tests)."""
    database_url = asyncio.run(scratch_databases.create())
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = start_server({"USER_SERVICE_DATABASE_URL": database_url}, log)
    try:
        yield running, database_url
    finally:
        status = running.stop()
        asyncio.run(scratch_databases.drop(database_url))
    assert status == 0, f"the server exited with {status}:\n{log.read_text()}"


class TestRemoteUserServiceOverTcp(UserUseCasesContract):
    @pytest.fixture
    def use_cases_factory(self, served_database: tuple[RunningServer, str]) -> UseCasesFactory:
        server, database_url = served_database

        @asynccontextmanager
        async def remote() -> AsyncIterator[UserUseCases]:
            async with empty_repository(database_url):
                pass
            async with RemoteUserService(server.base_url, timeout=10) as users:
                yield users

        return remote
