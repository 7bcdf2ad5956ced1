"""``GET /users/{id}``: the user, its ``ETag``, ``If-None-Match``, and what an id may be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]


def test_get_answers_the_user_with_its_etag(client: TestClient, make_user: UserFactory) -> None:
    user = make_user("ada", email="ada@example.com", other="x")
    response = client.get(f"/users/{user['id']}")
    assert response.status_code == 200
    assert response.json() == user
    assert response.headers["etag"] == '"1"'


def test_an_unknown_user_is_404(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/users/9223372036854775807"), 404, "not-found")


def test_a_deleted_user_is_404(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user()
    client.delete(f"/users/{user['id']}")
    problem(client.get(f"/users/{user['id']}"), 404, "not-found")


@pytest.mark.parametrize(
    "raw_id",
    [
        "0",
        "-1",
        "+1",
        "9223372036854775808",
        "99999999999999999999999",
        "abc",
        "1.5",
        "1e3",
        "0x10",
        "%D9%A3",
        "%201",
        "1%20",
    ],
)
def test_an_id_that_is_not_an_integer_in_range_is_400(
    client: TestClient, problem: ProblemCheck, raw_id: str
) -> None:
    body = problem(client.get(f"/users/{raw_id}"), 400, "validation", "id")
    assert "9223372036854775807" in body["errors"][0]["message"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_every_operation_on_a_user_checks_the_id_first(
    client: TestClient, problem: ProblemCheck, method: str
) -> None:
    response = client.request(method, "/users/abc", json={"name": "ada"})
    problem(response, 400, "validation", "id")


def test_the_largest_id_is_a_valid_id(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/users/9223372036854775807"), 404, "not-found")


def test_leading_zeros_name_the_same_user(client: TestClient, make_user: UserFactory) -> None:
    user = make_user()
    assert client.get(f"/users/000{user['id']}").json() == user


@pytest.mark.parametrize(
    "if_none_match", ['"1"', 'W/"1"', '"7", "1"', '"7",W/"1"', "*", ' , "1" ,']
)
def test_a_listed_current_etag_is_304_without_a_body(
    client: TestClient, make_user: UserFactory, if_none_match: str
) -> None:
    user = make_user()
    response = client.get(f"/users/{user['id']}", headers={"if-none-match": if_none_match})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"1"'
    assert "x-request-id" in response.headers


@pytest.mark.parametrize("if_none_match", ['"2"', 'W/"0"', '"01"', "1", "garbage", '"1'])
def test_a_stale_or_unparseable_if_none_match_gets_the_user(
    client: TestClient, make_user: UserFactory, if_none_match: str
) -> None:
    user = make_user()
    response = client.get(f"/users/{user['id']}", headers={"if-none-match": if_none_match})
    assert response.status_code == 200
    assert response.json() == user


def test_a_changed_user_no_longer_matches_its_old_etag(
    client: TestClient, make_user: UserFactory
) -> None:
    user = make_user()
    client.patch(f"/users/{user['id']}", json={"other": "changed"})
    response = client.get(f"/users/{user['id']}", headers={"if-none-match": '"1"'})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'


def test_if_none_match_on_an_unknown_user_is_404(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/users/5", headers={"if-none-match": "*"}), 404, "not-found")
