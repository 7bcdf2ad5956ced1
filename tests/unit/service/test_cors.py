"""CORS: off by default; on, browser pages of the allowed origins may call the API and read it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app
from user_service.container import CORS_EXPOSED_HEADERS, cors_middleware
from user_service.settings import Settings

ALLOWED = "https://app.example"
REFUSED = "https://evil.example"


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = Settings(cors_allow_origins=[ALLOWED])
    app = create_app(
        UserService(InMemoryUserRepository(), FixedClock()), middleware=cors_middleware(settings)
    )
    with TestClient(app) as client:
        yield client


def test_a_preflight_from_an_allowed_origin_is_answered(client: TestClient) -> None:
    response = client.options(
        "/users",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key, authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert {"content-type", "idempotency-key", "authorization", "x-request-id"} <= {
        name.strip() for name in allowed_headers.split(",")
    }
    assert response.headers["access-control-max-age"] == "600"


def test_a_preflight_from_another_origin_is_refused(client: TestClient) -> None:
    response = client.options(
        "/users", headers={"Origin": REFUSED, "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_a_request_from_an_allowed_origin_may_read_the_headers_it_needs(
    client: TestClient,
) -> None:
    response = client.post("/users", json={"name": "ada"}, headers={"Origin": ALLOWED})
    assert response.status_code == 201
    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    assert {name.lower() for name in CORS_EXPOSED_HEADERS} <= exposed
    assert {"etag", "location", "x-request-id", "ratelimit", "ratelimit-policy"} <= exposed


def test_a_request_from_another_origin_gets_no_cors_headers(client: TestClient) -> None:
    response = client.get("/users", headers={"Origin": REFUSED})
    assert response.status_code == 200  # served: it is the browser that keeps the page from it
    assert "access-control-allow-origin" not in response.headers


def test_cors_is_off_by_default() -> None:
    assert cors_middleware(Settings()) == []
    app = create_app(UserService(InMemoryUserRepository(), FixedClock()))
    with TestClient(app) as client:
        response = client.get("/users", headers={"Origin": ALLOWED})
    assert "access-control-allow-origin" not in response.headers


def test_origins_are_read_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USER_SERVICE_CORS_ALLOW_ORIGINS", f"{ALLOWED}, https://admin.example")
    assert Settings().cors_allow_origins == [ALLOWED, "https://admin.example"]
