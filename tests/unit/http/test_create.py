"""``POST /users``: creation, and the body rules every write shares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import Message

from tests.unit.asgi import post_users
from user_http import MAX_BODY_BYTES
from user_http.schemas import UserResource

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]

JSON = {"content-type": "application/json"}
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def test_create_answers_201_with_location_etag_and_the_user(client: TestClient) -> None:
    response = client.post(
        "/users", json={"name": "porucznik", "email": "p@example.com", "other": "admin"}
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/users/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["content-type"] == "application/json"
    assert body["name"] == "porucznik"
    assert body["email"] == "p@example.com"
    assert body["other"] == "admin"
    assert body["version"] == 1
    assert body["updated_at"] is None
    assert TIMESTAMP.fullmatch(body["created_at"])
    # Every field of the resource, and those only (test_schema_fields checks them against the core).
    assert set(body) == set(UserResource.__struct_fields__)


def test_the_created_user_is_at_its_location(client: TestClient) -> None:
    created = client.post("/users", json={"name": "ada"})
    assert client.get(created.headers["location"]).json() == created.json()


def test_optional_fields_default_to_null(make_user: UserFactory) -> None:
    user = make_user("ada")
    assert (user["email"], user["other"]) == (None, None)


def test_name_is_stripped_and_email_domain_lower_cased(make_user: UserFactory) -> None:
    user = make_user("  ada  ", email="Ada@Example.COM")
    assert (user["name"], user["email"]) == ("ada", "Ada@example.com")


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"name": "ada"}, {"name": "ADA"}, "name"),
        (
            {"name": "ada", "email": "a@example.com"},
            {"name": "bob", "email": "A@EXAMPLE.com"},
            "email",
        ),
    ],
)
def test_a_taken_name_or_email_is_409_naming_the_field(
    client: TestClient,
    problem: ProblemCheck,
    first: dict[str, str],
    second: dict[str, str],
    field: str,
) -> None:
    assert client.post("/users", json=first).status_code == 201
    body = problem(client.post("/users", json=second), 409, "field-taken", field)
    assert body["errors"][0]["message"] == "is already taken"
    assert client.get("/users").json()["count"] == 1


def test_a_look_alike_of_a_taken_name_in_another_script_is_400_saying_why(
    client: TestClient, problem: ProblemCheck
) -> None:
    assert client.post("/users", json={"name": "admin"}).status_code == 201
    body = problem(client.post("/users", json={"name": "аdmin"}), 400, "validation", "name")
    assert body["errors"][0]["message"] == (
        "must not mix scripts, as look-alikes do (it mixes Cyrillic and Latin)"
    )
    assert client.get("/users").json()["count"] == 1


@pytest.mark.parametrize(
    ("first", "second", "field"),
    [
        ({"name": "guest"}, {"name": "ｇuest"}, "name"),
        ({"name": "jane doe"}, {"name": "jane\u00a0 doe"}, "name"),
        (
            {"name": "a", "email": "a@bücher.de"},
            {"name": "b", "email": "A@xn--bcher-kva.de"},
            "email",
        ),
        (
            {"name": "a", "email": "y@example.com"},
            {"name": "b", "email": "y@example\u3002com"},
            "email",
        ),
    ],
)
def test_a_look_alike_of_a_taken_name_or_email_is_409(
    client: TestClient,
    problem: ProblemCheck,
    first: dict[str, str],
    second: dict[str, str],
    field: str,
) -> None:
    assert client.post("/users", json=first).status_code == 201
    problem(client.post("/users", json=second), 409, "field-taken", field)
    assert client.get("/users", params={field: second[field]}).json()["count"] == 1


def test_every_bad_field_is_listed_at_once(client: TestClient, problem: ProblemCheck) -> None:
    response = client.post(
        "/users", json={"name": 42, "email": "not an address", "other": "x" * 1001, "age": 3}
    )
    body = problem(response, 400, "validation", "name", "email", "other", "age")
    assert body["detail"] == "4 fields are invalid"
    messages = {error["field"]: error["message"] for error in body["errors"]}
    assert messages == {
        "name": "must be a string",
        "email": "is not a valid email address",
        "other": "must be at most 1000 characters",
        "age": "is not a known field",
    }


def test_value_errors_of_every_field_are_listed(client: TestClient, problem: ProblemCheck) -> None:
    response = client.post("/users", json={"name": "  ", "email": "@"})
    problem(response, 400, "validation", "name", "email")


def test_a_missing_name_is_listed_with_the_other_errors(
    client: TestClient, problem: ProblemCheck
) -> None:
    body = problem(client.post("/users", json={"email": 7}), 400, "validation", "name", "email")
    assert body["errors"] == [
        {"field": "name", "message": "is required"},
        {"field": "email", "message": "must be a string or null"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not well-formed UTF-8 JSON"),
        (b"{", "is not well-formed UTF-8 JSON"),
        (b'{"name": "ada",}', "is not well-formed UTF-8 JSON"),
        (b'{"name": "\xff\xfe"}', "is not well-formed UTF-8 JSON"),
        (b'{"name": NaN}', "is not well-formed UTF-8 JSON"),
        (b'{"name": Infinity}', "is not well-formed UTF-8 JSON"),
        (b'["ada"]', "must be a JSON object"),
        (b'"ada"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"[" * 20_000 + b"]" * 20_000, "must be a JSON object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    client: TestClient, problem: ProblemCheck, content: bytes, message: str
) -> None:
    body = problem(client.post("/users", content=content, headers=JSON), 400, "validation", "body")
    assert body["errors"][0]["message"] == message


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": 1e999}',
        b'{"name": 123456789012345678901234567890}',
        b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        b'{"x": 1, "name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        b'{"name": {"nested": true}}',
    ],
)
def test_odd_json_values_are_400_never_500(
    client: TestClient, problem: ProblemCheck, content: bytes
) -> None:
    problem(client.post("/users", content=content, headers=JSON), 400, "validation")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", 'Application/JSON; charset="UTF-8"'],
)
def test_json_with_or_without_utf8_charset_is_accepted(
    client: TestClient, content_type: str
) -> None:
    response = client.post(
        "/users", content=b'{"name":"ada"}', headers={"content-type": content_type}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": ""},
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "application/json; charset=latin-1"},
        {"content-type": "application/merge-patch+json"},
    ],
)
def test_a_body_that_is_not_json_is_415(
    client: TestClient, problem: ProblemCheck, headers: dict[str, str]
) -> None:
    response = client.post("/users", content=b'{"name":"ada"}', headers=headers)
    problem(response, 415, "unsupported-media-type")
    assert client.get("/users").json()["count"] == 0


def test_a_body_without_content_type_is_read_as_json(client: TestClient) -> None:
    response = client.post("/users", content=b'{"name":"ada","other":""}')
    assert response.status_code == 201, response.text
    assert (response.json()["name"], response.json()["other"]) == ("ada", "")


@pytest.mark.parametrize("content", [b"name=ada", b"", b"\xff", b'["ada"]'])
def test_a_body_without_content_type_that_is_not_json_is_400(
    client: TestClient, problem: ProblemCheck, content: bytes
) -> None:
    problem(client.post("/users", content=content), 400, "validation", "body")
    assert client.get("/users").json()["count"] == 0


def _padded(size: int) -> bytes:
    """A valid body of exactly ``size`` bytes: a user, then JSON whitespace."""
    start = b'{"name": "ada"}'
    return start + b" " * (size - len(start))


def test_a_body_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    assert MAX_BODY_BYTES == 64 * 1024
    response = client.post("/users", content=_padded(MAX_BODY_BYTES), headers=JSON)
    assert response.status_code == 201


def test_a_body_one_byte_over_the_limit_is_413(client: TestClient, problem: ProblemCheck) -> None:
    response = client.post("/users", content=_padded(MAX_BODY_BYTES + 1), headers=JSON)
    problem(response, 413, "content-too-large")
    assert client.get("/users").json()["count"] == 0


def test_a_streamed_body_is_read_no_further_than_the_limit(app: Starlette) -> None:
    chunk = b" " * 4096
    received: list[int] = []

    async def receive() -> Message:  # an endless body without Content-Length
        received.append(len(chunk))
        return {"type": "http.request", "body": chunk, "more_body": True}

    sent = post_users(app, receive, [(b"content-type", b"application/json")])
    assert sent[0]["status"] == 413
    assert sum(received) == MAX_BODY_BYTES + len(chunk)  # stopped at the chunk that crossed it


def test_a_declared_length_over_the_limit_is_413_before_reading(
    client: TestClient, problem: ProblemCheck
) -> None:
    headers = {**JSON, "content-length": str(MAX_BODY_BYTES + 1)}
    response = client.post("/users", content=b"{}", headers=headers)
    problem(response, 413, "content-too-large")
