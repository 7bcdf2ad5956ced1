"""End-to-end fixtures: the real ``user-service serve`` process on a free port, over real TCP.

The database comes from the same harness as the integration tests (``conftest.py`` at the
repository's root): each server gets a fresh migrated database of its own.
``USER_SERVICE_E2E_BASE_URL`` points the ``api`` tests at a service running elsewhere instead (the
Compose test runs the original scenarios that way against the stack).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from e2e.server import RunningServer, start_server
from user_postgres.testing import ScratchDatabases

# The cluster suite (e2e/cluster, `make cluster-test`) needs a Kind cluster and an image: it is
# collected only when `make cluster-test` names the image.
collect_ignore = [] if os.environ.get("USER_SERVICE_CLUSTER_IMAGE") else ["cluster"]


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    """Settings (``USER_SERVICE_*`` variables) of the module's server; a module may override it."""
    return {}


@pytest.fixture(scope="module")
def server(
    scratch_databases: ScratchDatabases,
    tmp_path_factory: pytest.TempPathFactory,
    server_settings: dict[str, str],
) -> Iterator[RunningServer]:
    """One server per test module, on a database of its own."""
    database_url = asyncio.run(scratch_databases.create())
    log = tmp_path_factory.mktemp("server") / "server.log"
    running = start_server({**server_settings, "USER_SERVICE_DATABASE_URL": database_url}, log)
    try:
        yield running
    finally:
        status = running.stop()
        asyncio.run(scratch_databases.drop(database_url))
    assert status == 0, f"the server exited with {status}:\n{log.read_text()}"


BASE_URL_VARIABLE = "USER_SERVICE_E2E_BASE_URL"


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    """An HTTP client for the running server (or the one ``USER_SERVICE_E2E_BASE_URL`` names)."""
    base_url = os.environ.get(BASE_URL_VARIABLE) or request.getfixturevalue("server").base_url
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client
