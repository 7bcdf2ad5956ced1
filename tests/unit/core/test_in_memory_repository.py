"""The in-memory repository passes the same contract as every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from user_core.ports import UserRepository
from user_core.testing import InMemoryUserRepository
from user_core.testing.contract import RepositoryFactory, UserRepositoryContract


@asynccontextmanager
async def empty_repository() -> AsyncIterator[UserRepository]:
    yield InMemoryUserRepository()


class TestInMemoryUserRepository(UserRepositoryContract):
    @pytest.fixture
    def repository_factory(self) -> RepositoryFactory:
        return empty_repository
