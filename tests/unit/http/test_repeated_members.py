"""A member name given twice in a body is ``400`` naming it, on every method (I-JSON, RFC 7493).

msgspec keeps the last value, a proxy may keep the first: refusing both keeps everyone agreeing
about what was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "case",
    [
        (b'{"name":"dupA","name":"dupB"}', ["name"]),
        (b'{"name": "ada", "other": "a", "other": "a"}', ["other"]),
        (b'{"name": 1, "name": "ada"}', ["name"]),
        (b'{"name": "ada", "email": null, "email": "ada@example.com"}', ["email"]),
        (b'{"name": "ada", "\\u006eame": "eve"}', ["name"]),  # the same name, escaped
        (b'{"name": "ada", "x": {"a": 1, "a": 2}}', ["x", "a"]),  # nested, and unknown
    ],
)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_a_repeated_member_is_400_naming_it_and_nothing_changes(
    client: TestClient,
    make_user: UserFactory,
    problem: ProblemCheck,
    method: str,
    case: tuple[bytes, list[str]],
) -> None:
    content, fields = case
    user = make_user("first")
    path = "/users" if method == "POST" else f"/users/{user['id']}"
    body = problem(
        client.request(method, path, content=content, headers=JSON), 400, "validation", *fields
    )
    assert "more than once" in body["errors"][-1]["message"]
    assert client.get("/users").json()["users"] == [user]


def test_a_repetition_inside_a_string_value_is_not_one(client: TestClient) -> None:
    content = b'{"name": "ada", "other": "{\\"name\\": 1, \\"name\\": 2}"}'
    assert client.post("/users", content=content, headers=JSON).status_code == 201
