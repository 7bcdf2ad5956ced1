"""PostgresUserRepository keeps every promise of the repository port, on a real server."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from user_core.testing.contract import RepositoryFactory, UserRepositoryContract
from user_postgres import PostgresUserRepository


class TestPostgresUserRepository(UserRepositoryContract):
    # As many examples as the in-memory run: each one truncates the table, in about a millisecond.
    max_examples = UserRepositoryContract.max_examples
    state_machine_examples = UserRepositoryContract.state_machine_examples

    @pytest.fixture
    def repository_factory(
        self,
        postgres_repository_factory: Callable[
            [], AbstractAsyncContextManager[PostgresUserRepository]
        ],
    ) -> RepositoryFactory:
        return postgres_repository_factory
