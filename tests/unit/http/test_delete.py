"""``DELETE /users/{id}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]


def test_delete_answers_204_and_the_user_is_gone(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user()
    response = client.delete(f"/users/{user['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert "x-request-id" in response.headers
    problem(client.get(f"/users/{user['id']}"), 404, "not-found")
    problem(client.delete(f"/users/{user['id']}"), 404, "not-found")


def test_a_deleted_users_id_is_never_reused(client: TestClient, make_user: UserFactory) -> None:
    first = make_user("ada")
    client.delete(f"/users/{first['id']}")
    assert make_user("ada")["id"] != first["id"]


def test_a_deleted_users_name_is_free_again(client: TestClient, make_user: UserFactory) -> None:
    user = make_user("ada", email="ada@example.com")
    client.delete(f"/users/{user['id']}")
    assert make_user("ADA", email="Ada@example.com")["name"] == "ADA"
