"""Fixtures for the tests of the built image: the image, a network, PostgreSQL in a container.

``USER_SERVICE_TEST_IMAGE`` names an image to test instead of building one (how a deliberately
broken image is tried); otherwise the session builds the ``Dockerfile`` once, with BuildKit, on
the base image ``scripts/base-images.sh`` chose.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from e2e.containers.docker import (
    DOCKER,
    PG_PASSWORD,
    PG_USER,
    ROOT,
    Container,
    base_images,
    docker,
    extra_ca,
    network,
    psql,
    running,
    unique,
    wait_for_postgres,
)

IMAGE_VARIABLE = "USER_SERVICE_TEST_IMAGE"
BUILT_IMAGE = "user-service:e2e"
BUILD_TIMEOUT = 1200


@pytest.fixture(scope="session")
def image() -> str:
    """The image under test: ``USER_SERVICE_TEST_IMAGE``, or the ``Dockerfile`` built now."""
    if named := os.environ.get(IMAGE_VARIABLE):
        docker("image", "inspect", named)
        return named
    started = time.monotonic()
    build = subprocess.run(
        [DOCKER, "build", "--tag", BUILT_IMAGE,
         "--build-arg", f"PYTHON_IMAGE={base_images()['PYTHON_IMAGE']}",
         "--secret", f"id=extra-ca,src={extra_ca()}", str(ROOT)],
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-5000:]
    print(f"built {BUILT_IMAGE} in {time.monotonic() - started:.1f} s")
    return BUILT_IMAGE


@pytest.fixture(scope="session")
def docker_network() -> Iterator[str]:
    with network() as name:
        yield name


@pytest.fixture(scope="session")
def postgres(docker_network: str) -> Iterator[Container]:
    """PostgreSQL 17 from the base image, reachable as ``postgres`` on the network."""
    with running(
        "--network", docker_network, "--network-alias", "postgres",
        "--env", f"POSTGRES_USER={PG_USER}", "--env", f"POSTGRES_PASSWORD={PG_PASSWORD}",
        "--env", "POSTGRES_DB=postgres", "--publish", "127.0.0.1::5432",
        base_images()["POSTGRES_IMAGE"],
    ) as container:  # fmt: skip
        wait_for_postgres(container.id)
        yield container


@pytest.fixture
def database(postgres: Container) -> Iterator[str]:
    """An empty database of the test's own; its name."""
    name = unique("e2e").replace("-", "_")
    psql(postgres.id, f'CREATE DATABASE "{name}"')
    yield name
    psql(postgres.id, f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(database: str) -> str:
    """The test's database as the service container sees it, on the network."""
    return f"postgresql://{PG_USER}:{PG_PASSWORD}@postgres:5432/{database}"
