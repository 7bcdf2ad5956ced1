"""``PUT /users/{id}``: full replacement."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def test_put_replaces_every_field_and_clears_absent_ones(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user("ada", email="ada@example.com", other="x")
    response = client.put(f"/users/{user['id']}", json={"name": "lovelace"})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"], body["other"]) == ("lovelace", None, None)
    assert (body["id"], body["created_at"]) == (user["id"], user["created_at"])
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert TIMESTAMP.fullmatch(body["updated_at"])
    assert body["updated_at"] > body["created_at"]
    assert client.get(f"/users/{user['id']}").json() == body


def test_put_with_the_same_values_is_still_a_new_version(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user("ada")
    response = client.put(f"/users/{user['id']}", json={"name": "ada"})
    assert (response.status_code, response.json()["version"]) == (200, 2)


def test_put_on_an_unknown_user_is_404(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.put("/users/12345", json={"name": "ada"}), 404, "not-found")


def test_put_to_a_taken_name_is_409_and_changes_nothing(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    make_user("ada")
    bob = make_user("bob")
    problem(client.put(f"/users/{bob['id']}", json={"name": "Ada"}), 409, "field-taken", "name")
    assert client.get(f"/users/{bob['id']}").json() == bob


def test_put_lists_every_bad_field(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user()
    response = client.put(f"/users/{user['id']}", json={"email": "x", "other": 1, "id": 3})
    problem(response, 400, "validation", "name", "email", "other", "id")
    assert client.get(f"/users/{user['id']}").json() == user


def test_put_needs_json(client: TestClient, make_user: UserFactory, problem: ProblemCheck) -> None:
    user = make_user()
    response = client.put(
        f"/users/{user['id']}",
        content=b'{"name": "x"}',
        headers={"content-type": "application/merge-patch+json"},
    )
    problem(response, 415, "unsupported-media-type")
