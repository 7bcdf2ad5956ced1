"""``Idempotency-Key`` on ``POST /users``: a retry gets the first response and creates nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]

JSON = {"content-type": "application/json"}
REPLAYED = ("content-type", "location", "etag")


def post(client: TestClient, key: str, body: bytes | str, **headers: str) -> Any:
    content = body.encode() if isinstance(body, str) else body
    return client.post(
        "/users", content=content, headers={**JSON, "Idempotency-Key": key, **headers}
    )


def users(client: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/users", params={"limit": 100}).json()["users"]
    return found


def test_a_retry_gets_the_same_status_headers_and_body_and_creates_nothing(
    client: TestClient,
) -> None:
    body = '{"name": "ada", "email": "ada@example.com", "other": "x"}'
    first = post(client, "key-1", body)
    retry = post(client, "key-1", body)

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert {name: retry.headers[name] for name in REPLAYED} == {
        name: first.headers[name] for name in REPLAYED
    }
    assert retry.headers["x-request-id"] != first.headers["x-request-id"]
    assert [user["id"] for user in users(client)] == [first.json()["id"]]


def test_the_same_values_spelt_differently_are_the_same_request(client: TestClient) -> None:
    first = post(client, "key-1", '{"name": "ada", "other": "x"}')
    retry = post(client, "key-1", '{ "other":"x","email":null,  "name":"ada" }')
    assert (retry.status_code, retry.content) == (201, first.content)
    assert len(users(client)) == 1


def test_a_key_reused_with_another_body_is_422_and_creates_nothing(
    client: TestClient, problem: ProblemCheck
) -> None:
    first = post(client, "key-1", '{"name": "ada"}')
    reused = post(client, "key-1", '{"name": "bob"}')
    problem(reused, 422, "idempotency-key-reused")
    assert [user["name"] for user in users(client)] == ["ada"]
    assert post(client, "key-1", '{"name": "ada"}').content == first.content


def test_another_letter_case_in_the_name_is_another_body(
    client: TestClient, problem: ProblemCheck
) -> None:
    post(client, "key-1", '{"name": "ada"}')
    problem(post(client, "key-1", '{"name": "Ada"}'), 422, "idempotency-key-reused")


def test_different_keys_create_different_users(client: TestClient) -> None:
    assert post(client, "key-1", '{"name": "ada"}').status_code == 201
    assert post(client, "Key-1", '{"name": "bob"}').status_code == 201
    assert len(users(client)) == 2


def test_a_failed_creation_records_nothing_so_a_retry_runs_again(
    client: TestClient, problem: ProblemCheck, make_user: UserFactory
) -> None:
    ada = make_user("ada")
    problem(post(client, "key-1", '{"name": "ADA"}'), 409, "field-taken", "name")
    assert client.delete(f"/users/{ada['id']}").status_code == 204
    retried = post(client, "key-1", '{"name": "ADA"}')
    assert retried.status_code == 201
    assert [user["name"] for user in users(client)] == ["ADA"]


def test_an_invalid_body_does_not_use_up_the_key(client: TestClient, problem: ProblemCheck) -> None:
    problem(post(client, "key-1", '{"name": ""}'), 400, "validation", "name")
    assert post(client, "key-1", '{"name": "ada"}').status_code == 201


def test_the_recorded_response_is_replayed_after_the_user_changed(client: TestClient) -> None:
    first = post(client, "key-1", '{"name": "ada"}')
    location = first.headers["location"]
    assert client.patch(location, json={"other": "changed"}).status_code == 200
    assert client.delete(location).status_code == 204
    retry = post(client, "key-1", '{"name": "ada"}')
    assert (retry.status_code, retry.content, retry.headers["etag"]) == (
        201,
        first.content,
        '"1"',
    )


@pytest.mark.parametrize(
    "key",
    ["k", "x" * 255, "a key with spaces", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "0" * 40],
)
def test_any_printable_ascii_key_of_1_to_255_characters_is_accepted(
    client: TestClient, key: str
) -> None:
    assert post(client, key, '{"name": "ada"}').status_code == 201
    assert post(client, key, '{"name": "ada"}').status_code == 201
    assert len(users(client)) == 1


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 256, "zo\u00eb".encode("latin-1"), b"tab\there", b"del\x7f"],
    ids=["empty", "256 characters", "not ASCII", "tab", "DEL"],
)
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_400(
    client: TestClient, problem: ProblemCheck, key: bytes
) -> None:
    response = client.post(
        "/users",
        content=b'{"name": "ada"}',
        headers=[(b"content-type", b"application/json"), (b"idempotency-key", key)],
    )
    problem(response, 400, "validation", "Idempotency-Key")
    assert users(client) == []


def test_a_repeated_key_header_is_400(client: TestClient, problem: ProblemCheck) -> None:
    response = client.post(
        "/users",
        content=b'{"name": "ada"}',
        headers=[
            (b"content-type", b"application/json"),
            (b"idempotency-key", b"one"),
            (b"idempotency-key", b"two"),
        ],
    )
    problem(response, 400, "validation", "Idempotency-Key")
    assert users(client) == []


def test_without_a_key_every_request_is_a_new_creation(
    client: TestClient, problem: ProblemCheck
) -> None:
    assert client.post("/users", json={"name": "ada"}).status_code == 201
    problem(client.post("/users", json={"name": "ada"}), 409, "field-taken", "name")


def test_the_openapi_document_describes_the_header_and_the_422(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    create = document["paths"]["/users"]["post"]
    assert {"$ref": "#/components/parameters/IdempotencyKey"} in create["parameters"]
    parameter = document["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"]) == ("Idempotency-Key", "header")
    assert parameter["schema"]["maxLength"] == 255
    assert create["responses"]["422"] == {"$ref": "#/components/responses/Problem422"}


@pytest.mark.parametrize("spelling", ["key-1 ", " key-1", "key-1\t", "\t key-1  "])
def test_whitespace_around_the_key_is_not_part_of_it(client: TestClient, spelling: str) -> None:
    first = post(client, "key-1", '{"name": "ada"}')
    retry = post(client, spelling, '{"name": "ada"}')
    assert (retry.status_code, retry.content) == (201, first.content)
    assert len(users(client)) == 1


def test_a_key_of_whitespace_only_is_400(client: TestClient, problem: ProblemCheck) -> None:
    problem(post(client, "  ", '{"name": "ada"}'), 400, "validation", "Idempotency-Key")
    assert users(client) == []
