"""A user read earlier may be sent back: output-only fields are ignored, but checked (AIP-203).

On ``PUT`` and ``PATCH`` an ``id`` other than the path's is ``400`` and a ``version`` other than
the stored one is ``412``, as a stale ``If-Match`` is; either way nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
JSON = {"content-type": "application/json"}
MERGE_PATCH = {"content-type": "application/merge-patch+json"}
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def _stored(client: TestClient, user: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/users/{user['id']}").json()
    return body


def test_post_ignores_the_output_only_fields(client: TestClient, make_user: UserFactory) -> None:
    earlier = make_user("earlier")
    sent = {
        "id": earlier["id"],
        "name": "ada",
        "created_at": GO_ZERO_TIME,
        "updated_at": "2020-01-01T00:00:00+02:00",
        "version": 7,
    }
    response = client.post("/users", json=sent)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["id"] != earlier["id"]
    assert created["created_at"] != GO_ZERO_TIME
    assert (created["updated_at"], created["version"]) == (None, 1)
    assert _stored(client, earlier) == earlier


@pytest.mark.parametrize(("method", "headers"), [("PUT", JSON), ("PATCH", MERGE_PATCH)])
def test_a_user_read_and_sent_back_changed_is_written(
    client: TestClient, make_user: UserFactory, method: str, headers: dict[str, str]
) -> None:
    user = client.patch(f"/users/{make_user('ada', other='x')['id']}", json={}).json()
    response = client.request(
        method, f"/users/{user['id']}", json={**user, "other": "y"}, headers=headers
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert (changed["other"], changed["version"]) == ("y", user["version"] + 1)
    assert changed["created_at"] == user["created_at"]
    assert changed["updated_at"] != user["updated_at"]


@pytest.mark.parametrize(("method", "headers"), [("PUT", JSON), ("PATCH", MERGE_PATCH)])
def test_an_id_other_than_the_paths_is_400(
    client: TestClient,
    make_user: UserFactory,
    problem: ProblemCheck,
    method: str,
    headers: dict[str, str],
) -> None:
    user = make_user("ada")
    other = make_user("bob")
    for sent_id in (other["id"], 0):
        response = client.request(
            method, f"/users/{user['id']}", json={**user, "id": sent_id}, headers=headers
        )
        body = problem(response, 400, "validation", "id")
        assert str(user["id"]) in body["errors"][0]["message"]
    assert (_stored(client, user), _stored(client, other)) == (user, other)


@pytest.mark.parametrize(("method", "headers"), [("PUT", JSON), ("PATCH", MERGE_PATCH)])
def test_a_version_other_than_the_stored_one_is_412(
    client: TestClient,
    make_user: UserFactory,
    problem: ProblemCheck,
    method: str,
    headers: dict[str, str],
) -> None:
    user = make_user("ada")
    current = client.patch(f"/users/{user['id']}", json={}).json()
    stale = {**user, "other": "lost update"}  # read at version 1, now at 2
    problem(
        client.request(method, f"/users/{user['id']}", json=stale, headers=headers),
        412,
        "precondition-failed",
    )
    assert _stored(client, user) == current


@pytest.mark.parametrize(
    ("if_match", "status"),
    [('"1"', 200), ('"2"', 412), ('"1", "2"', 200), ('"2", "3"', 412), ("*", 200)],
)
def test_the_version_and_if_match_must_both_hold(
    client: TestClient, make_user: UserFactory, if_match: str, status: int
) -> None:
    user = make_user("ada")
    response = client.put(
        f"/users/{user['id']}", json={**user, "other": "z"}, headers={"if-match": if_match}
    )
    assert response.status_code == status, response.text
    assert _stored(client, user)["version"] == (2 if status == 200 else 1)


def test_a_stale_version_for_a_missing_user_is_404(
    client: TestClient, problem: ProblemCheck
) -> None:
    response = client.put("/users/12345", json={"name": "ada", "version": 3})
    problem(response, 404, "not-found")


@pytest.mark.parametrize(
    ("method", "headers"), [("POST", JSON), ("PUT", JSON), ("PATCH", MERGE_PATCH)]
)
def test_output_only_fields_of_the_wrong_type_are_400_with_the_others(
    client: TestClient,
    make_user: UserFactory,
    problem: ProblemCheck,
    method: str,
    headers: dict[str, str],
) -> None:
    user = make_user("ada")
    path = "/users" if method == "POST" else f"/users/{user['id']}"
    sent = {
        "name": "",
        "id": "1",
        "created_at": "yesterday",
        "updated_at": "2026-11-25T09:00:00",  # no offset
        "version": 0,
        "unknown": 1,
    }
    response = client.request(method, path, json=sent, headers=headers)
    body = problem(
        response, 400, "validation", "name", "id", "created_at", "updated_at", "version", "unknown"
    )
    assert body["errors"][4]["message"] == "must be an integer from 1 to 9223372036854775807"
    assert client.get("/users").json()["users"] == [user]


def test_an_idempotent_retry_may_add_or_drop_output_only_fields(client: TestClient) -> None:
    key = {"idempotency-key": "sent-back-1"}
    first = client.post("/users", json={"name": "ada"}, headers=key)
    retry = client.post(
        "/users", json={"id": 0, "name": "ada", "created_at": GO_ZERO_TIME}, headers=key
    )
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.content == first.content
    assert client.get("/users").json()["count"] == 1


def test_patch_without_content_type_is_read_as_json(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user("ada")
    response = client.patch(f"/users/{user['id']}", content=b'{"other": "no type"}')
    assert response.status_code == 200, response.text
    assert response.json()["other"] == "no type"
