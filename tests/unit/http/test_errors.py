"""Problem responses for routing errors, storage outages and the unexpected."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import (
    IdempotentRequest,
    Page,
    PageRequest,
    RecordedResponse,
    StorageUnavailable,
    User,
    UserChanges,
    UserDraft,
    UserService,
)
from user_core.testing import FixedClock
from user_http import create_app

ProblemCheck = Callable[..., dict[str, Any]]
SECRET = "SELECT password FROM accounts -- at db.internal:5432"


class FailingRepository:
    """A repository whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def add(self, draft: UserDraft, now: datetime) -> User:
        raise self.error

    async def add_once(
        self,
        draft: UserDraft,
        request: IdempotentRequest,
        respond: Callable[[User], RecordedResponse],
        now: datetime,
        expires_at: datetime,
    ) -> RecordedResponse:
        raise self.error

    async def purge_expired(self, now: datetime, limit: int) -> int:
        raise self.error

    async def get(self, user_id: int) -> User | None:
        raise self.error

    async def update(
        self, user_id: int, changes: UserChanges, expected_version: int | None, now: datetime
    ) -> User:
        raise self.error

    async def delete(self, user_id: int, expected_version: int | None) -> None:
        raise self.error

    async def list(self, request: PageRequest) -> Page:
        raise self.error


def _client(error: Exception) -> Iterator[TestClient]:
    app = create_app(UserService(FailingRepository(error), FixedClock()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def unavailable() -> Iterator[TestClient]:
    yield from _client(StorageUnavailable(SECRET))


@pytest.fixture
def broken() -> Iterator[TestClient]:
    yield from _client(RuntimeError(SECRET))


OPERATIONS = [
    ("POST", "/users", {"name": "ada"}),
    ("GET", "/users", None),
    ("GET", "/users/1", None),
    ("PUT", "/users/1", {"name": "ada"}),
    ("PATCH", "/users/1", {"name": "ada"}),
    ("DELETE", "/users/1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_a_storage_outage_is_503_with_retry_after(
    unavailable: TestClient,
    problem: ProblemCheck,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    response = unavailable.request(method, path, json=body)
    problem(response, 503, "unavailable")
    assert int(response.headers["retry-after"]) >= 1
    assert SECRET not in response.text


@pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
def test_an_unexpected_error_is_500_without_internals(
    broken: TestClient,
    problem: ProblemCheck,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    response = broken.request(method, path, json=body)
    problem(response, 500, "internal")
    assert "password" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text


def test_an_unexpected_error_is_logged_under_the_request_id(
    broken: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="user_http"):
        response = broken.get("/users/1", headers={"x-request-id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert response.json()["request_id"] == "trace-42"
    [record] = [record for record in caplog.records if record.name.startswith("user_http")]
    assert "trace-42" in record.getMessage()
    assert getattr(record, "request_id", None) == "trace-42"
    assert record.exc_info is not None
    assert SECRET in str(record.exc_info[1])


def test_an_unknown_path_is_a_404_problem(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/nothing/here"), 404, "not-found")


def test_a_trailing_slash_is_404_not_a_redirect(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/users/", follow_redirects=False), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/users", "GET, HEAD, POST"),
        ("PUT", "/users", "GET, HEAD, POST"),
        ("OPTIONS", "/users", "GET, HEAD, POST"),
        ("POST", "/users/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("TRACE", "/users/1", "GET, HEAD, PUT, PATCH, DELETE"),
        ("POST", "/livez", "GET, HEAD"),
        ("DELETE", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_method_the_path_lacks_is_405_with_allow(
    client: TestClient, problem: ProblemCheck, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allow


def test_a_validation_problem_has_every_rfc_9457_member(
    client: TestClient, problem: ProblemCheck
) -> None:
    response = client.post("/users", json={"name": "", "email": "x"})
    body = problem(response, 400, "validation", "name", "email")
    assert body == {
        "type": "/problems/validation",
        "title": "Invalid request",
        "status": 400,
        "detail": "2 fields are invalid",
        "instance": "/users",
        "request_id": response.headers["x-request-id"],
        "errors": [
            {"field": "name", "message": "must not be empty"},
            {"field": "email", "message": "is not a valid email address"},
        ],
    }


def test_problems_without_field_errors_have_no_errors_member(
    client: TestClient, problem: ProblemCheck
) -> None:
    assert "errors" not in problem(client.get("/users/77"), 404, "not-found")


def test_the_router_tries_the_busiest_operations_first(app: Starlette) -> None:
    names = [getattr(route, "name", None) for route in app.router.routes]
    assert names[:2] == ["getUser", "createUser"]
    assert len(set(names)) == len(names)  # each route once, whatever its rank
