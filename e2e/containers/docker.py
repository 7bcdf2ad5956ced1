"""The Docker engine for the container tests: the CLI, the base images, containers that clean up.

Everything here runs Debian's ``docker`` client (``/usr/bin/docker``, which builds with BuildKit on
its own) unless ``DOCKER`` names another, never pulls (``--pull=never``: the base images come from
``scripts/base-images.sh``), and removes what it starts, also when a test fails.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).parents[2]
BASE_IMAGES = ROOT / ".cache" / "base-images.env"
DOCKER = os.environ.get("DOCKER") or (
    "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
)
PG_USER = PG_PASSWORD = "user_service"
READY_TIMEOUT = 60.0


def docker(*arguments: str, timeout: float = 120, check: bool = True) -> str:
    """Run ``docker ARGUMENTS``; its standard output, stripped. A failure says what docker said."""
    result = subprocess.run(
        [DOCKER, *arguments], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(arguments)} exited {result.returncode}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout.strip()


def base_images() -> dict[str, str]:
    """The base images ``scripts/base-images.sh`` chose (PYTHON_IMAGE, POSTGRES_IMAGE, …)."""
    assert BASE_IMAGES.exists(), f"no {BASE_IMAGES}: run scripts/base-images.sh first"
    pairs = (line.partition("=") for line in BASE_IMAGES.read_text().splitlines() if line)
    return {name: value for name, _, value in pairs}


def extra_ca() -> str:
    """The CA bundle a TLS-inspecting proxy needs trusted by the build, or ``/dev/null``."""
    return os.environ.get("SSL_CERT_FILE") or "/dev/null"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def published_port(container: str, port: int) -> int:
    """The loopback port Docker published ``port`` of ``container`` on."""
    binding = docker("port", container, f"{port}/tcp").splitlines()[0]
    return int(binding.rsplit(":", 1)[1])


def wait_until_ready(base_url: str, container: str, timeout: float = READY_TIMEOUT) -> float:
    """Poll ``/readyz`` until 200; the seconds it took. Fails with the logs if it never does."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        if docker("inspect", "--format", "{{.State.Running}}", container) != "true":
            break
        time.sleep(0.1)
    logs = docker("logs", "--tail", "40", container, check=False)
    raise AssertionError(f"{container} was not ready within {timeout} s:\n{logs}")


@dataclass(frozen=True)
class Container:
    """A running container and, when it publishes one, its HTTP base URL."""

    id: str
    base_url: str = ""

    def state(self, field: str) -> str:
        return docker("inspect", "--format", "{{.State." + field + "}}", self.id)

    def logs(self) -> str:
        result = subprocess.run(
            [DOCKER, "logs", self.id], capture_output=True, text=True, timeout=30, check=False
        )
        return result.stdout + result.stderr


@contextmanager
def running(*arguments: str, http_port: int | None = None) -> Iterator[Container]:
    """``docker run --detach ARGUMENTS``, removed (with its anonymous volumes) on the way out."""
    publish = ["--publish", f"127.0.0.1::{http_port}"] if http_port else []
    container = docker("run", "--detach", "--pull=never", *publish, *arguments)
    try:
        base_url = ""
        if http_port:
            if docker("inspect", "--format", "{{.State.Running}}", container) != "true":
                logs = Container(container).logs()[-3000:]
                raise AssertionError(f"the container exited at once:\n{logs}")
            base_url = f"http://127.0.0.1:{published_port(container, http_port)}"
        yield Container(container, base_url)
    finally:
        docker("rm", "--force", "--volumes", container, check=False)


@contextmanager
def network() -> Iterator[str]:
    """A user-defined bridge network of the test's own, where containers find each other by name."""
    name = unique("user-service-e2e")
    docker("network", "create", name)
    try:
        yield name
    finally:
        docker("network", "rm", name, check=False)


def psql(container: str, sql: str, database: str = "postgres") -> str:
    """Run ``sql`` in the PostgreSQL container, over its socket."""
    return docker(
        "exec", container, "psql", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--tuples-only",
        f"--username={PG_USER}", f"--dbname={database}", "--command", sql,
    )  # fmt: skip


def wait_for_postgres(container: str, timeout: float = 60) -> None:
    """Wait until the server takes passwords over TCP (the real server, not the init one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe = subprocess.run(
            [DOCKER, "exec", "--env", f"PGPASSWORD={PG_PASSWORD}", container, "psql",
             "--host=127.0.0.1", f"--username={PG_USER}", "--dbname=postgres",
             "--command=select 1"],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        if probe.returncode == 0:
            return
        time.sleep(0.3)
    raise AssertionError(f"PostgreSQL in {container} never answered:\n{docker('logs', container)}")
