"""The service's own application on a database of each test's own, with its telemetry."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from user_service.container import Container
from user_service.settings import Settings


@pytest.fixture
def container(database_url: str) -> Container:
    """The service's container on this test's database (migrated already); no access log."""
    container = Container()
    container.settings.override(
        Settings(
            database_url=SecretStr(database_url),
            migrate_on_start=False,
            access_log=False,
            pool_size=3,
            pool_max_overflow=2,
        )
    )
    return container
