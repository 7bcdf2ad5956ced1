"""Fixtures of the HTTP tests: an app over a ``service``, and a client that runs its lifespan.

The tests only talk HTTP and never assume ids (they read them from responses), so another suite
can run them against another storage by overriding ``service`` with one over an *empty* store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app

UserFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def service() -> UserService:
    """The service under the app: in memory, with a clock one second further at each reading."""
    return UserService(InMemoryUserRepository(), FixedClock(tick=timedelta(seconds=1)))


@pytest.fixture
def app(service: UserService) -> Starlette:
    return create_app(service)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def make_user(client: TestClient) -> UserFactory:
    """Creates a user through the API and returns its JSON; fields as keyword arguments."""

    def make(name: str = "ada", **fields: Any) -> dict[str, Any]:
        response = client.post("/users", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    return make


ProblemCheck = Callable[..., dict[str, Any]]


@pytest.fixture
def problem() -> ProblemCheck:
    """Checks that a response is an RFC 9457 problem of this status and type; returns its body."""

    def check(response: Any, status: int, slug: str, *fields: str) -> dict[str, Any]:
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        body: dict[str, Any] = response.json()
        assert body["type"] == f"/problems/{slug}"
        assert body["status"] == status
        assert body["title"]
        assert body["detail"]
        assert body["instance"] == response.request.url.raw_path.decode().partition("?")[0]
        assert body["request_id"] == response.headers["x-request-id"]
        if fields:
            assert [error["field"] for error in body["errors"]] == list(fields)
        return body

    return check
