"""``/readyz`` on a real database: ready at head, not ready without the schema or the server."""

from __future__ import annotations

import socket

from pydantic import SecretStr
from starlette.testclient import TestClient

from user_service.asgi import create_application
from user_service.container import Container
from user_service.settings import Settings


def application_on(database_url: str) -> TestClient:
    container = Container()
    container.settings.override(
        Settings(
            database_url=SecretStr(database_url),
            migrate_on_start=False,
            connect_timeout_seconds=1,
            pool_timeout_seconds=1,
        )
    )
    return TestClient(create_application(container))


def test_ready_when_the_database_answers_at_the_newest_migration(database_url: str) -> None:
    with application_on(database_url) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_not_ready_while_migrations_are_pending(blank_database_url: str) -> None:
    with application_on(blank_database_url) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers


def test_not_ready_when_the_database_is_unreachable() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with application_on(f"postgresql://nobody@127.0.0.1:{port}/nothing") as client:
        readiness = client.get("/readyz")
        liveness = client.get("/livez")
        users = client.get("/users/1")
    assert readiness.status_code == 503
    assert liveness.status_code == 200
    assert users.status_code == 503
    assert users.headers["retry-after"]
    assert users.json()["status"] == 503
