"""UserService on the in-memory repository passes the use-case contract."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from user_core import UserService, UserUseCases
from user_core.testing import FixedClock, InMemoryUserRepository
from user_core.testing.use_cases import UseCasesFactory, UserUseCasesContract


@asynccontextmanager
async def in_memory_service() -> AsyncIterator[UserUseCases]:
    yield UserService(InMemoryUserRepository(), FixedClock(tick=timedelta(seconds=1)))


class TestUserServiceInMemory(UserUseCasesContract):
    @pytest.fixture
    def use_cases_factory(self) -> UseCasesFactory:
        return in_memory_service
