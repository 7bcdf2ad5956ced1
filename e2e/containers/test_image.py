"""The built image, run: its user, read-only root, probes, API, health check, migrations, embedded
fallback and a ``docker stop`` that loses no request.

Every container runs with a read-only root file system, as in Kubernetes (the chart's
``readOnlyRootFilesystem``): only ``/tmp`` and, for the embedded server, the data directory are
writable tmpfs mounts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from e2e.containers.docker import (
    PG_PASSWORD,
    PG_USER,
    Container,
    docker,
    psql,
    published_port,
    running,
    wait_until_ready,
)
from user_postgres import create_engine, migrate

PORT = 8080
UID = "10001"
READ_ONLY = ["--read-only", "--tmpfs", "/tmp"]
HEALTHY_TIMEOUT = 90.0
BURST = 100
STOP_GRACE = 30


@pytest.fixture(scope="module")
def service(image: str, docker_network: str, postgres: Container) -> Iterator[Container]:
    """The image serving on a database of its own, on the test network."""
    psql(postgres.id, "CREATE DATABASE image_api")
    url = f"postgresql://{PG_USER}:{PG_PASSWORD}@postgres:5432/image_api"
    with running(
        *READ_ONLY, "--network", docker_network,
        "--env", f"USER_SERVICE_DATABASE_URL={url}", image, http_port=PORT,
    ) as container:  # fmt: skip
        ready_after = wait_until_ready(container.base_url, container.id)
        print(f"ready {ready_after:.2f} s after docker run returned")
        yield container


def test_runs_as_uid_10001_on_a_read_only_root(service: Container) -> None:
    assert docker("exec", service.id, "id", "-u") == UID
    assert docker("exec", service.id, "id", "-g") == UID
    assert docker("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", service.id) == "true"
    probe = docker(
        "exec", service.id, "sh", "-c", "touch /opt/venv/x 2>&1 || echo refused", check=False
    )
    assert "Read-only file system" in probe
    assert "refused" in probe


def test_serves_the_probes_and_the_api_against_postgresql(service: Container) -> None:
    with httpx.Client(base_url=service.base_url, timeout=10) as api:
        assert api.get("/livez").status_code == 200
        assert api.get("/readyz").json() == {"status": "ready"}
        created = api.post("/users", json={"name": "in-a-container", "other": "x"})
        assert created.status_code == 201, created.text
        fetched = api.get(created.headers["location"])
        assert fetched.json() == created.json()
        assert "user_service_http_requests_total" in api.get("/metrics").text
        # The API page's viewer and boot script travel in the image (package data).
        for name in ("swagger-ui-bundle.js", "swagger-init.js"):
            assert api.get(f"/docs/assets/{name}").status_code == 200, name


def test_health_check_turns_healthy(service: Container) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while (status := service.state("Health.Status")) != "healthy":
        assert status == "starting", f"health {status}: {service.state('Health')}"
        assert time.monotonic() < deadline, f"still {status} after {HEALTHY_TIMEOUT} s"
        time.sleep(1)


def test_migrate_current_up_and_down(image: str, docker_network: str, database_url: str) -> None:
    def migrate_in_image(*step: str) -> str:
        return docker(
            "run", "--rm", "--pull=never", *READ_ONLY, "--network", docker_network,
            "--env", f"USER_SERVICE_DATABASE_URL={database_url}", image, "migrate", *step,
        )  # fmt: skip

    head = migrate.head()
    assert migrate_in_image("current").splitlines()[-1] == "(no migration applied)"
    migrate_in_image("up")
    assert migrate_in_image("current").splitlines()[-1] == head
    migrate_in_image("down")
    below = migrate_in_image("current").splitlines()[-1]
    assert below not in {head, "(no migration applied)"}
    migrate_in_image("up")
    assert migrate_in_image("current").splitlines()[-1] == head


def test_starts_an_embedded_postgresql_without_a_database_url(image: str) -> None:
    data = "/var/lib/user-service:uid=10001,gid=10001,mode=700"
    with running(*READ_ONLY, "--tmpfs", data, image, http_port=PORT) as container:
        wait_until_ready(container.base_url, container.id, timeout=90)
        created = httpx.post(f"{container.base_url}/users", json={"name": "embedded"}, timeout=10)
        assert created.status_code == 201, created.text


def _in_flight(base_url: str) -> float:
    metrics = httpx.get(f"{base_url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(metrics):
        if family.name == "user_service_http_requests_in_flight":
            return family.samples[0].value
    raise AssertionError("no in-flight gauge")


@pytest.mark.anyio
async def test_docker_stop_answers_every_request_in_flight(
    image: str, docker_network: str, database: str, database_url: str, postgres: Container
) -> None:
    """Requests held on a table lock when ``docker stop`` comes are all answered; exit 0."""
    host_url = (
        f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{published_port(postgres.id, 5432)}"
        f"/{database}"
    )
    settings = [
        "--env", f"USER_SERVICE_DATABASE_URL={database_url}",
        "--env", "USER_SERVICE_POOL_TIMEOUT_SECONDS=30",
        "--env", "USER_SERVICE_STATEMENT_TIMEOUT_MS=30000",
        "--env", "USER_SERVICE_SHUTDOWN_GRACE_SECONDS=20",
    ]  # fmt: skip
    with running(*READ_ONLY, "--network", docker_network, *settings, image, http_port=PORT) as c:
        await asyncio.to_thread(wait_until_ready, c.base_url, c.id)
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(base_url=c.base_url, timeout=60, limits=limits) as client:
            seeded = (await client.post("/users", json={"name": "seed"})).json()["id"]
            requests = [
                client.get(f"/users/{seeded}")
                if n % 2
                else client.post("/users", json={"name": f"burst-{n}"})
                for n in range(BURST)
            ]
            locker = create_engine(host_url)
            try:
                async with locker.connect() as connection:
                    await connection.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
                    burst = [asyncio.ensure_future(request) for request in requests]
                    deadline = time.monotonic() + 20
                    while await asyncio.to_thread(_in_flight, c.base_url) < BURST + 1:
                        assert time.monotonic() < deadline, "the burst never got in flight"
                        await asyncio.sleep(0.1)
                    started = time.monotonic()
                    stop = asyncio.ensure_future(
                        asyncio.to_thread(docker, "stop", "--time", str(STOP_GRACE), c.id)
                    )
                    await asyncio.sleep(1.0)
                    assert c.state("Running") == "true", "the service quit with requests in flight"
                    await connection.rollback()  # releases the lock
                responses = await asyncio.gather(*burst)
                await stop
                stopped_after = time.monotonic() - started
            finally:
                await locker.dispose()

        statuses = sorted({response.status_code for response in responses})
        assert statuses == [200, 201], [r.text for r in responses if r.status_code >= 300][:3]
        assert len(responses) == BURST
        assert c.state("ExitCode") == "0", c.logs()[-3000:]
        assert stopped_after < STOP_GRACE, f"stopped after {stopped_after:.1f} s: killed?"
