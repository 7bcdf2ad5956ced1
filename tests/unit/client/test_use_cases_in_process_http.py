"""RemoteUserService passes the use-case contract against the real app, in process.

The same app as in production (``user_http.create_app``) over an in-memory service, reached
through ``httpx.ASGITransport``: every byte of the wire contract, no socket. The run over real
TCP against PostgreSQL is ``e2e/test_use_cases_over_tcp.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import httpx
import pytest

from user_client import RemoteUserService
from user_core import UserService, UserUseCases
from user_core.testing import FixedClock, InMemoryUserRepository
from user_core.testing.use_cases import UseCasesFactory, UserUseCasesContract
from user_http import create_app


@asynccontextmanager
async def remote_in_memory_service(etag_cache_size: int = 0) -> AsyncIterator[UserUseCases]:
    service = UserService(InMemoryUserRepository(), FixedClock(tick=timedelta(seconds=1)))
    transport = httpx.ASGITransport(app=create_app(service))
    async with RemoteUserService(
        "http://users.test", transport=transport, etag_cache_size=etag_cache_size
    ) as remote:
        yield remote


class TestRemoteUserServiceInProcess(UserUseCasesContract):
    @pytest.fixture
    def use_cases_factory(self) -> UseCasesFactory:
        return remote_in_memory_service


class TestRemoteUserServiceWithConditionalReads(UserUseCasesContract):
    """The cache of entity tags changes no behaviour, only what travels."""

    @pytest.fixture
    def use_cases_factory(self) -> UseCasesFactory:
        return partial(remote_in_memory_service, etag_cache_size=2)
