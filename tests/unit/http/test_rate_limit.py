"""Rate limiting: each client's budget of reads and writes per window, told in every response."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import RateLimits, create_app

ProblemCheck = Callable[..., dict[str, Any]]
LIMITS = RateLimits(reads=3, writes=2, window_seconds=1)
STATE = re.compile(r'^"(reads|writes)";r=(\d+);t=(\d+)$')


@pytest.fixture
def app() -> Starlette:
    return create_app(UserService(InMemoryUserRepository(), FixedClock()), rate_limits=LIMITS)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, client=("192.0.2.1", 40000)) as client:
        yield client


def _state(response: Any) -> tuple[str, int, int]:
    found = STATE.match(response.headers["ratelimit"])
    assert found, response.headers["ratelimit"]
    return found[1], int(found[2]), int(found[3])


def test_every_limited_response_tells_the_budget_and_what_is_left(client: TestClient) -> None:
    answers = [client.get("/users") for _ in range(LIMITS.reads)]
    assert [answer.status_code for answer in answers] == [200] * LIMITS.reads
    assert {answer.headers["ratelimit-policy"] for answer in answers} == {'"reads";q=3;w=1'}
    assert [_state(answer)[:2] for answer in answers] == [("reads", 2), ("reads", 1), ("reads", 0)]
    assert all(1 <= _state(answer)[2] <= LIMITS.window_seconds for answer in answers)


def test_a_burst_over_the_budget_is_429_with_retry_after(
    client: TestClient, problem: ProblemCheck
) -> None:
    for _ in range(LIMITS.writes):
        assert client.post("/users", json={"name": f"u{time.monotonic_ns()}"}).status_code == 201
    refused = client.post("/users", json={"name": "one too many"})
    body = problem(refused, 429, "too-many-requests")
    assert "2 writes per 1 seconds" in body["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= LIMITS.window_seconds
    assert refused.headers["ratelimit-policy"] == '"writes";q=2;w=1'
    assert _state(refused)[:2] == ("writes", 0)
    assert client.get("/users").json()["count"] == LIMITS.writes  # the refused one changed nothing


def test_reads_and_writes_have_budgets_of_their_own(client: TestClient) -> None:
    for _ in range(LIMITS.writes):
        client.post("/users", json={"name": f"u{time.monotonic_ns()}"})
    assert client.post("/users", json={"name": "refused"}).status_code == 429
    assert client.get("/users").status_code == 200


def test_another_client_keeps_its_own_budget(app: Starlette, client: TestClient) -> None:
    for _ in range(LIMITS.reads):
        client.get("/users")
    assert client.get("/users").status_code == 429
    with TestClient(app, client=("192.0.2.2", 40000)) as other:
        assert other.get("/users").status_code == 200


def test_the_budget_comes_back_with_the_next_window(client: TestClient) -> None:
    for _ in range(LIMITS.reads):
        client.get("/users")
    refused = client.get("/users")
    assert refused.status_code == 429
    # A sliding window: the previous window's count weighs less and less through this one.
    time.sleep(LIMITS.window_seconds * 2 + 0.1)
    assert client.get("/users").status_code == 200


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/openapi.json", "/docs", "/metrics"])
def test_probes_and_documentation_are_never_limited(client: TestClient, path: str) -> None:
    for _ in range(LIMITS.reads + 2):
        response = client.get(path)
        assert response.status_code in {200, 404}
        assert "ratelimit" not in response.headers


def test_without_limits_nothing_is_counted_or_told() -> None:
    app = create_app(UserService(InMemoryUserRepository(), FixedClock()))
    with TestClient(app) as client:
        for _ in range(10):
            response = client.get("/users")
            assert response.status_code == 200
            assert "ratelimit" not in response.headers
        document = client.get("/openapi.json").json()
    assert "429" not in document["paths"]["/users"]["get"]["responses"]


def test_the_document_tells_where_429_and_the_headers_come(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    listing = document["paths"]["/users"]["get"]["responses"]
    assert listing["429"] == {"$ref": "#/components/responses/Problem429"}
    assert {"RateLimit", "RateLimit-Policy"} <= set(listing["200"]["headers"])
    assert "429" not in document["paths"]["/livez"]["get"]["responses"]
    assert "RateLimit" not in document["paths"]["/livez"]["get"]["responses"]["200"]["headers"]
