"""Rate limiting and CORS on the real server over TCP, configured by the environment as in
production: clients told apart by the address a trusted proxy forwarded (``X-Forwarded-For``
from 127.0.0.1, the default trusted proxy), each with its budget; one origin allowed.
"""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

READS, WRITES, WINDOW = 5, 3, 1
ALLOWED_ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    return {
        "USER_SERVICE_RATE_LIMIT_ENABLED": "true",
        "USER_SERVICE_RATE_LIMIT_READS": str(READS),
        "USER_SERVICE_RATE_LIMIT_WRITES": str(WRITES),
        "USER_SERVICE_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
        "USER_SERVICE_CORS_ALLOW_ORIGINS": ALLOWED_ORIGIN,
    }


def _as(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def test_a_burst_is_429_for_its_client_only_and_the_budget_comes_back(api: httpx.Client) -> None:
    burst = [
        api.post("/users", json={"name": f"burst-{index}"}, headers=_as("203.0.113.1"))
        for index in range(WRITES + 2)
    ]
    assert [response.status_code for response in burst] == [201] * WRITES + [429, 429]
    refused = burst[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= WINDOW
    assert refused.headers["ratelimit-policy"] == f'"writes";q={WRITES};w={WINDOW}'
    assert refused.headers["ratelimit"].startswith('"writes";r=0;t=')

    other = api.post("/users", json={"name": "another client"}, headers=_as("203.0.113.2"))
    assert other.status_code == 201
    assert api.get("/livez", headers=_as("203.0.113.1")).status_code == 200

    time.sleep(2 * WINDOW + 0.2)
    again = api.post("/users", json={"name": "after the window"}, headers=_as("203.0.113.1"))
    assert again.status_code == 201
    names = {user["name"] for user in api.get("/users", params={"limit": 100}).json()["users"]}
    assert {"burst-3", "burst-4"}.isdisjoint(names)  # the refused writes stored nothing


@pytest.mark.parametrize(
    ("origin", "allowed"), [(ALLOWED_ORIGIN, True), ("https://x.example", False)]
)
def test_a_browser_preflight_and_request_get_cors_headers_for_the_allowed_origin_only(
    api: httpx.Client, origin: str, allowed: bool
) -> None:
    client = {"X-Forwarded-For": f"198.51.100.{10 + allowed}"}
    preflight = api.options(
        "/users",
        headers={
            **client,
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "if-match, content-type",
        },
    )
    assert preflight.status_code == (200 if allowed else 400)
    assert preflight.headers.get("access-control-allow-origin") == (origin if allowed else None)
    response = api.get("/users", headers={**client, "Origin": origin})
    assert response.status_code == 200
    assert response.headers.get("access-control-allow-origin") == (origin if allowed else None)
    if allowed:
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "ratelimit" in exposed
        assert "x-request-id" in exposed
