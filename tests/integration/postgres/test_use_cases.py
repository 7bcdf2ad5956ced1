"""UserService on PostgreSQL passes the use-case contract, as it does in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from user_core import SystemClock, UserService, UserUseCases
from user_core.testing.use_cases import UseCasesFactory, UserUseCasesContract
from user_postgres import PostgresUserRepository


class TestUserServiceOnPostgres(UserUseCasesContract):
    @pytest.fixture
    def use_cases_factory(
        self,
        postgres_repository_factory: Callable[
            [], AbstractAsyncContextManager[PostgresUserRepository]
        ],
    ) -> UseCasesFactory:
        @asynccontextmanager
        async def service() -> AsyncIterator[UserUseCases]:
            async with postgres_repository_factory() as repository:
                yield UserService(repository, SystemClock())

        return service
