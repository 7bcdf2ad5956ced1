"""``GET /users``: offset and cursor paging, filters, ``total``, ``Link``, and strict parameters."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from user_core import Cursor, PageRequest
from user_http.query import next_page_query

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
NEXT_LINK = re.compile(r'<([^>]*)>; rel="next"')


def _users(make_user: UserFactory, count: int) -> list[dict[str, Any]]:
    return [make_user(f"user{index:03}", email=f"u{index}@example.com") for index in range(count)]


def _next_url(response: Any) -> str:
    match = NEXT_LINK.fullmatch(response.headers["link"])
    assert match is not None, response.headers["link"]
    return match[1]


def test_an_empty_store_lists_nothing(client: TestClient) -> None:
    response = client.get("/users")
    assert response.status_code == 200
    assert response.json() == {"users": [], "count": 0, "next_cursor": None}
    assert "link" not in response.headers


def test_the_first_page_has_ten_users_in_creation_order(
    client: TestClient, make_user: UserFactory
) -> None:
    users = _users(make_user, 12)
    body = client.get("/users").json()
    assert body["users"] == users[:10]
    assert body["count"] == 10
    assert body["next_cursor"] is not None
    assert "total" not in body


def test_limit_and_offset_page_like_the_original_service(
    client: TestClient, make_user: UserFactory
) -> None:
    users = _users(make_user, 5)
    body = client.get("/users", params={"limit": 2, "offset": 3}).json()
    assert (body["users"], body["count"]) == (users[3:5], 2)
    assert client.get("/users", params={"offset": 5}).json()["users"] == []


def test_cursors_walk_every_user_once_following_link(
    client: TestClient, make_user: UserFactory
) -> None:
    users = _users(make_user, 7)
    seen: list[dict[str, Any]] = []
    response = client.get("/users", params={"limit": 3})
    while True:
        body = response.json()
        seen += body["users"]
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            break
        url = _next_url(response)
        assert parse_qs(urlsplit(url).query)["cursor"] == [body["next_cursor"]]
        response = client.get(url)
    assert seen == users


def test_a_cursor_is_stable_when_earlier_users_are_deleted(
    client: TestClient, make_user: UserFactory
) -> None:
    users = _users(make_user, 4)
    first = client.get("/users", params={"limit": 2}).json()
    client.delete(f"/users/{users[0]['id']}")
    second = client.get("/users", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["users"] == users[2:4]


def test_link_keeps_the_limit_filters_and_total(client: TestClient, make_user: UserFactory) -> None:
    make_user("ada", email="ada@example.com")
    make_user("bob")
    response = client.get("/users", params={"limit": 1, "total": "true"})
    url = urlsplit(_next_url(response))
    assert url.path == "/users"
    query = parse_qs(url.query)
    assert query["limit"] == ["1"]
    assert query["total"] == ["true"]
    assert client.get(_next_url(response)).json()["total"] == 2


def test_the_next_page_query_keeps_filters_escaped() -> None:
    # Names and emails are unique, so a filtered listing never has a next page to link to
    # through the API; the query builder is checked on its own.
    request = PageRequest(limit=5, name="a&b c", email="x+y@example.com", with_total=True)
    query = parse_qs(next_page_query(request, Cursor(7)))
    assert query == {
        "limit": ["5"],
        "name": ["a&b c"],
        "email": ["x+y@example.com"],
        "total": ["true"],
        "cursor": [Cursor(7).encode()],
    }


def test_filters_match_name_and_email_ignoring_case(
    client: TestClient, make_user: UserFactory
) -> None:
    ada = make_user("Ada", email="ada@example.com")
    make_user("bob", email="bob@example.com")
    assert client.get("/users", params={"name": "ADA"}).json()["users"] == [ada]
    assert client.get("/users", params={"email": "ADA@EXAMPLE.COM"}).json()["users"] == [ada]
    both = client.get("/users", params={"name": "ada", "email": "ada@example.com"}).json()
    assert both["users"] == [ada]
    assert (
        client.get("/users", params={"name": "ada", "email": "bob@example.com"}).json()["users"]
        == []
    )


def test_total_counts_every_matching_user(client: TestClient, make_user: UserFactory) -> None:
    _users(make_user, 3)
    body = client.get("/users", params={"limit": 1, "total": "true"}).json()
    assert (body["count"], body["total"]) == (1, 3)
    filtered = client.get("/users", params={"name": "user001", "total": "true"}).json()
    assert filtered["total"] == 1
    assert "total" not in client.get("/users", params={"total": "false"}).json()


@pytest.mark.parametrize(("limit", "count"), [("1", 1), ("100", 100)])
def test_limit_may_be_one_to_a_hundred(
    client: TestClient, make_user: UserFactory, limit: str, count: int
) -> None:
    _users(make_user, 101)
    assert client.get("/users", params={"limit": limit}).json()["count"] == count


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("limit=0", ["limit"]),
        ("limit=101", ["limit"]),
        ("limit=-1", ["limit"]),
        ("limit=ten", ["limit"]),
        ("limit=", ["limit"]),
        ("limit=1.5", ["limit"]),
        ("limit=99999999999999999999999", ["limit"]),
        ("offset=-1", ["offset"]),
        ("offset=x", ["offset"]),
        ("total=yes", ["total"]),
        ("total=True", ["total"]),
        ("cursor=abc", ["cursor"]),
        ("page=2", ["page"]),
        ("limit=1&limit=2", ["limit"]),
        ("name=a&name=b", ["name"]),
        ("limit=x&offset=y&total=1&sort=id&limit=3", ["sort", "limit", "limit", "offset", "total"]),
    ],
)
def test_bad_parameters_are_400_listing_each(
    client: TestClient, problem: ProblemCheck, query: str, fields: list[str]
) -> None:
    body = problem(client.get(f"/users?{query}"), 400, "validation")
    assert sorted(error["field"] for error in body["errors"]) == sorted(fields)


@pytest.mark.parametrize("offset", ["0", "2"])
def test_cursor_with_offset_is_400(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck, offset: str
) -> None:
    _users(make_user, 3)
    cursor = client.get("/users", params={"limit": 1}).json()["next_cursor"]
    response = client.get("/users", params={"cursor": cursor, "offset": offset})
    body = problem(response, 400, "validation", "cursor")
    assert body["errors"][0]["message"] == "cannot be combined with offset"


def test_a_tampered_cursor_is_400(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    _users(make_user, 3)
    cursor: str = client.get("/users", params={"limit": 1}).json()["next_cursor"]
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    problem(client.get("/users", params={"cursor": tampered}), 400, "validation", "cursor")


@pytest.mark.parametrize("query", ["name=%FF", "email=a%C0%80@example.com", "%FE=1"])
def test_a_query_that_is_not_utf_8_is_400(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck, query: str
) -> None:
    # Found by the hostile-input tests: the bytes became U+FFFD, and "\ufffd" is a valid name.
    make_user("\ufffd")
    problem(client.get(f"/users?{query}"), 400, "validation", "query")
