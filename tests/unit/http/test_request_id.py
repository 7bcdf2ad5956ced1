"""``X-Request-ID`` on every response: the client's when sane, else a generated one."""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.testclient import TestClient

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "request_id",
    ["abc", "0af7651916cd43dd8448eb211c80319c", "trace:span/1+2=3_x.y-z", "x" * 128],
)
def test_a_sane_request_id_is_echoed(client: TestClient, request_id: str) -> None:
    response = client.get("/livez", headers={"x-request-id": request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize(
    "request_id", ["x" * 129, "", "has space", "semi;colon", 'quote"d', "<script>", "ünï"]
)
def test_an_insane_request_id_is_replaced(client: TestClient, request_id: str) -> None:
    response = client.get("/livez", headers={b"x-request-id": request_id.encode("utf-8")})
    assert GENERATED.fullmatch(response.headers["x-request-id"])


def test_a_missing_request_id_is_a_fresh_uuid4_for_each_request(client: TestClient) -> None:
    first = client.get("/livez").headers["x-request-id"]
    second = client.get("/livez").headers["x-request-id"]
    assert GENERATED.fullmatch(first)
    assert first != second
    assert uuid.UUID(first).version == 4
    assert uuid.UUID(first).variant == uuid.RFC_4122


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/1"),
        ("GET", "/users/abc"),
        ("GET", "/nowhere"),
        ("DELETE", "/users"),
        ("POST", "/users"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/assets/swagger-init.js"),
        ("GET", "/docs/assets/nothing.js"),
        ("GET", "/readyz"),
    ],
)
def test_every_response_carries_exactly_one_request_id(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, headers={"x-request-id": "req-1"})
    assert response.headers.get_list("x-request-id") == ["req-1"]
