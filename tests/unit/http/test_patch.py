"""``PATCH /users/{id}``: JSON merge patch (RFC 7396) of the top-level fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


def test_patch_changes_only_the_given_fields(client: TestClient, make_user: UserFactory) -> None:
    user = make_user("ada", email="ada@example.com", other="x")
    response = client.patch(f"/users/{user['id']}", json={"other": "y"})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"], body["other"]) == ("ada", "ada@example.com", "y")
    assert (body["version"], response.headers["etag"]) == (2, '"2"')
    assert client.get(f"/users/{user['id']}").json() == body


def test_null_clears_email_and_other(client: TestClient, make_user: UserFactory) -> None:
    user = make_user("ada", email="ada@example.com", other="x")
    body = client.patch(f"/users/{user['id']}", json={"email": None, "other": None}).json()
    assert (body["name"], body["email"], body["other"]) == ("ada", None, None)


def test_null_name_is_400(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user()
    body = problem(
        client.patch(f"/users/{user['id']}", json={"name": None}), 400, "validation", "name"
    )
    assert body["errors"][0]["message"] == "must be a string"
    assert client.get(f"/users/{user['id']}").json() == user


def test_an_empty_patch_is_a_new_version_with_the_same_values(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user("ada", email="ada@example.com")
    response = client.patch(f"/users/{user['id']}", content=b"{}", headers=MERGE_PATCH)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert {key: body[key] for key in ("name", "email", "other")} == {
        key: user[key] for key in ("name", "email", "other")
    }


def test_patch_lists_every_bad_field(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user()
    response = client.patch(
        f"/users/{user['id']}", json={"name": "", "email": 5, "other": "x" * 1001, "created": 9}
    )
    problem(response, 400, "validation", "name", "email", "other", "created")


@pytest.mark.parametrize("content", [b"[]", b'"name"', b"null", b"{"])
def test_a_patch_that_is_not_an_object_is_400(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck, content: bytes
) -> None:
    user = make_user()
    response = client.patch(f"/users/{user['id']}", content=content, headers=MERGE_PATCH)
    problem(response, 400, "validation", "body")


@pytest.mark.parametrize(
    "content_type",
    [
        "application/merge-patch+json",
        "application/json",
        "application/merge-patch+json; charset=utf-8",
    ],
)
def test_patch_accepts_merge_patch_and_plain_json(
    client: TestClient, make_user: UserFactory, content_type: str
) -> None:
    user = make_user()
    response = client.patch(
        f"/users/{user['id']}", content=b'{"other": "y"}', headers={"content-type": content_type}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/json-patch+json"])
def test_patch_in_another_media_type_is_415(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck, content_type: str
) -> None:
    user = make_user()
    response = client.patch(
        f"/users/{user['id']}", content=b'{"other": "y"}', headers={"content-type": content_type}
    )
    problem(response, 415, "unsupported-media-type")


def test_patch_to_a_taken_email_is_409(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    make_user("ada", email="ada@example.com")
    bob = make_user("bob")
    response = client.patch(f"/users/{bob['id']}", json={"email": "ADA@example.com"})
    problem(response, 409, "field-taken", "email")


def test_patch_on_an_unknown_user_is_404(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.patch("/users/12345", json={"other": "y"}), 404, "not-found")
