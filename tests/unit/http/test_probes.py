"""``/livez`` and ``/readyz``, the readiness probe and the shutdown signal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import StorageUnavailable, UserService
from user_http import ShutdownSignal, create_app

ProblemCheck = Callable[..., dict[str, Any]]


class SwitchableProbe:
    """A readiness probe the test turns on and off."""

    def __init__(self, ready: bool = True) -> None:
        self.ready = ready
        self.calls = 0

    async def __call__(self) -> bool:
        self.calls += 1
        return self.ready


def test_livez_is_200(client: TestClient) -> None:
    response = client.get("/livez")
    assert (response.status_code, response.json()) == (200, {"status": "live"})


def test_readyz_without_a_probe_is_200(client: TestClient) -> None:
    response = client.get("/readyz")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})


def test_readyz_follows_the_probe(service: UserService, problem: ProblemCheck) -> None:
    probe = SwitchableProbe()
    with TestClient(create_app(service, readiness=probe)) as client:
        assert client.get("/readyz").status_code == 200
        probe.ready = False
        response = client.get("/readyz")
        problem(response, 503, "unavailable")
        assert int(response.headers["retry-after"]) >= 1
        assert client.get("/livez").status_code == 200
        probe.ready = True
        assert client.get("/readyz").status_code == 200


def test_a_probe_that_finds_the_storage_down_makes_readyz_503(
    service: UserService, problem: ProblemCheck
) -> None:
    async def storage_down() -> bool:
        raise StorageUnavailable("connection refused")

    with TestClient(create_app(service, readiness=storage_down)) as client:
        problem(client.get("/readyz"), 503, "unavailable")


def test_readyz_is_503_once_shutdown_begins(service: UserService, problem: ProblemCheck) -> None:
    probe = SwitchableProbe()
    shutdown = ShutdownSignal()
    with TestClient(create_app(service, readiness=probe, shutdown=shutdown)) as client:
        assert client.get("/readyz").status_code == 200
        shutdown.begin_shutdown()
        body = problem(client.get("/readyz"), 503, "unavailable")
        assert "shutting down" in body["detail"]
        assert probe.calls == 1  # not asked once shutting down
        assert client.get("/livez").status_code == 200


def test_the_end_of_the_lifespan_begins_shutdown(service: UserService) -> None:
    shutdown = ShutdownSignal()
    with TestClient(create_app(service, shutdown=shutdown)):
        assert not shutdown.begun
    assert shutdown.begun


def test_the_given_lifespan_wraps_the_apps_life_and_shares_its_state(
    service: UserService,
) -> None:
    shutdown = ShutdownSignal()
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        events.append("start")
        yield {"database": "open"}
        events.append(f"stop, shutdown begun: {shutdown.begun}")

    app = create_app(service, shutdown=shutdown, lifespan=lifespan)
    with TestClient(app) as client:
        assert events == ["start"]
        assert client.get("/livez").status_code == 200
    assert events == ["start", "stop, shutdown begun: True"]


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_probes_answer_head(client: TestClient, path: str) -> None:
    assert client.head(path).status_code == 200
