"""Hostile inputs through the service's own application on PostgreSQL: none breaks it.

Each request gets the status the contract gives it, a problem body when it is refused, and leaves
the stored users exactly as they were (compared by listing them all, with ``total``). What only a
real socket can send (a body dribbled in slowly, CR/LF inside a header, a megabyte-long request
line) is in ``e2e/test_hostile_connections.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from user_core import EmailAddress, OtherInfo, UserName
from user_http import MAX_BODY_BYTES
from user_http.schemas import MAX_PROBLEM_ERRORS

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
JSON = {"content-type": "application/json"}
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture
def existing(make_user: UserFactory) -> dict[str, Any]:
    """A stored user, so that writes to ``/users/{id}`` have something they could damage."""
    return make_user("ada", email="ada@example.com", other="first")


def _everything(client: TestClient) -> dict[str, Any]:
    response = client.get("/users", params={"limit": 100, "total": "true"})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def unchanged(
    client: TestClient,
    existing: dict[str, Any],  # noqa: ARG001 (a fixture cannot usefixtures: stored before `before`)
) -> Iterator[None]:
    """Asserts, after the test, that the stored users are exactly those before it."""
    before = _everything(client)
    yield
    assert _everything(client) == before


def _writes(user_id: int) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("POST", "/users", JSON),
        ("PUT", f"/users/{user_id}", JSON),
        ("PATCH", f"/users/{user_id}", MERGE_PATCH),
    ]


# Invalid UTF-8: a lone continuation byte, an overlong "/", a UTF-16 surrogate, a truncated
# sequence, and Latin-1 where UTF-8 was promised.
INVALID_UTF_8 = [b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"caf\xe9"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("raw", INVALID_UTF_8)
def test_invalid_utf_8_in_a_body_is_400(
    client: TestClient, existing: dict[str, Any], problem: ProblemCheck, raw: bytes
) -> None:
    for method, path, headers in _writes(existing["id"]):
        body = b'{"name": "' + raw + b'"}'
        response = client.request(method, path, content=body, headers=headers)
        problem(response, 400, "validation", "body")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("path", ["/users/%FF", "/users/1%C0%AF"])
def test_invalid_utf_8_in_an_id_is_400(
    client: TestClient, problem: ProblemCheck, path: str
) -> None:
    for method in ("GET", "DELETE"):
        problem(client.request(method, path), 400, "validation", "id")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("query", ["name=%FF", "email=%ED%A0%80", "%C0%AF=1"])
def test_invalid_utf_8_in_a_query_is_400(
    client: TestClient, problem: ProblemCheck, query: str
) -> None:
    problem(client.get(f"/users?{query}"), 400, "validation", "query")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "body",
    [
        # As deep as 64 KiB allows: past the parser's and the interpreter's recursion limits.
        b"[" * (MAX_BODY_BYTES // 2) + b"]" * (MAX_BODY_BYTES // 2),
        b'{"name": "ada", "other": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
        b'{"name": ' + b'{"a": ' * 8_000 + b"1" + b"}" * 8_000 + b"}",
    ],
    ids=["array", "in-a-field", "objects"],
)
def test_deeply_nested_json_is_400(
    client: TestClient, existing: dict[str, Any], problem: ProblemCheck, body: bytes
) -> None:
    assert len(body) <= MAX_BODY_BYTES
    for method, path, headers in _writes(existing["id"]):
        response = client.request(method, path, content=body, headers=headers)
        assert problem(response, 400, "validation")["errors"]


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": 1e999}', "name"),
        (b'{"name": -1e-999}', "name"),
        (b'{"name": ' + b"9" * 5_000 + b"}", "name"),
        (b'{"name": "ada", "other": ' + b"9" * 5_000 + b"}", "other"),
        (b'{"name": NaN}', "body"),
        (b'{"name": "ada", "other": Infinity}', "body"),
        (b'{"name": "ada", "email": -Infinity}', "body"),
    ],
)
def test_huge_numbers_nan_and_infinity_are_400(
    client: TestClient,
    existing: dict[str, Any],
    problem: ProblemCheck,
    body: bytes,
    field: str,
) -> None:
    for method, path, headers in _writes(existing["id"]):
        response = client.request(method, path, content=body, headers=headers)
        problem(response, 400, "validation", field)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "query",
    ["limit=1e999", "limit=NaN", "offset=Infinity", f"limit={'9' * 5_000}", "offset=-0x1"],
)
def test_huge_numbers_and_nan_in_a_query_are_400(
    client: TestClient, problem: ProblemCheck, query: str
) -> None:
    body = problem(client.get(f"/users?{query}"), 400, "validation")
    assert {error["field"] for error in body["errors"]} <= {"limit", "offset"}


def _email(length: int) -> str:
    # A 64-character local part and dot-separated labels of at most 63: valid at any length.
    local = "a" * 64
    domain_length = length - len(local) - 1
    labels: list[str] = []
    while domain_length > 0:
        label = min(63, domain_length - 4 if domain_length > 67 else domain_length)
        labels.append("b" * label)
        domain_length -= label + 1
    domain = ".".join([*labels[:-1], "c" * len(labels[-1])]) if labels else ""
    return f"{local}@{domain}"


LIMITS = [
    ("name", "n" * UserName.MAX_LENGTH),
    ("name", "  " + "s" * UserName.MAX_LENGTH + "\t\n"),  # at the limit once stripped
    ("email", _email(EmailAddress.MAX_LENGTH)),
    ("other", "o" * OtherInfo.MAX_LENGTH),
]
PAST_LIMITS = [
    ("name", "n" * (UserName.MAX_LENGTH + 1)),
    ("name", "  " + "s" * (UserName.MAX_LENGTH + 1) + " "),
    ("email", _email(EmailAddress.MAX_LENGTH + 1)),
    ("other", "o" * (OtherInfo.MAX_LENGTH + 1)),
]


def test_the_limits_are_what_the_helpers_say() -> None:
    assert len(_email(EmailAddress.MAX_LENGTH)) == EmailAddress.MAX_LENGTH
    assert len(_email(EmailAddress.MAX_LENGTH + 1)) == EmailAddress.MAX_LENGTH + 1
    EmailAddress(_email(EmailAddress.MAX_LENGTH))  # valid but for its length


@pytest.mark.parametrize(("field", "value"), LIMITS)
def test_a_value_at_its_limit_is_stored_whole(client: TestClient, field: str, value: str) -> None:
    body = {"name": "at-the-limit", field: value}
    created = client.post("/users", json=body)
    assert created.status_code == 201, created.text
    expected = value.strip() if field == "name" else value
    assert created.json()[field] == expected
    path = f"/users/{created.json()['id']}"
    assert client.put(path, json=body).status_code == 200
    assert client.patch(path, json={field: value}).status_code == 200
    assert client.get(path).json()[field] == expected


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(("field", "value"), PAST_LIMITS)
def test_a_value_one_past_its_limit_is_400(
    client: TestClient, existing: dict[str, Any], problem: ProblemCheck, field: str, value: str
) -> None:
    body = {"name": "past-the-limit", field: value}
    problem(client.post("/users", json=body), 400, "validation", field)
    problem(client.put(f"/users/{existing['id']}", json=body), 400, "validation", field)
    patch = client.patch(f"/users/{existing['id']}", json={field: value})
    problem(patch, 400, "validation", field)


def _padded(size: int) -> bytes:
    """A valid body of exactly ``size`` bytes: JSON allows any whitespace after the object."""
    body = b'{"name": "padded", "other": "fits"}'
    return body + b" " * (size - len(body))


def test_a_body_of_exactly_64_kib_is_accepted(client: TestClient) -> None:
    response = client.post("/users", content=_padded(MAX_BODY_BYTES), headers=JSON)
    assert response.status_code == 201, response.text


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES])
def test_a_body_over_64_kib_is_413(
    client: TestClient, existing: dict[str, Any], problem: ProblemCheck, size: int
) -> None:
    for method, path, headers in _writes(existing["id"]):
        response = client.request(method, path, content=_padded(size), headers=headers)
        problem(response, 413, "content-too-large")


@pytest.mark.usefixtures("unchanged")
def test_a_chunked_body_over_64_kib_is_413_without_content_length(
    client: TestClient, problem: ProblemCheck
) -> None:
    chunks = [_padded(MAX_BODY_BYTES)[:-1], b"  "]
    response = client.post("/users", content=iter(chunks), headers=JSON)
    assert "content-length" not in response.request.headers
    problem(response, 413, "content-too-large")


@pytest.mark.usefixtures("unchanged")
def test_a_very_long_id_is_400(client: TestClient, problem: ProblemCheck) -> None:
    for method in ("GET", "DELETE"):
        problem(client.request(method, "/users/" + "1" * 30_000), 400, "validation", "id")


@pytest.mark.usefixtures("unchanged")
def test_a_very_long_unknown_path_is_404(client: TestClient, problem: ProblemCheck) -> None:
    problem(client.get("/" + "x/" * 15_000), 404, "not-found")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("parameter", ["name", "email"])
def test_a_very_long_filter_matches_nothing(client: TestClient, parameter: str) -> None:
    response = client.get("/users", params={parameter: "x" * 30_000, "total": "true"})
    assert response.status_code == 200
    assert (response.json()["users"], response.json()["total"]) == ([], 0)


@pytest.mark.usefixtures("unchanged")
def test_a_very_long_query_of_unknown_parameters_is_400(
    client: TestClient, problem: ProblemCheck
) -> None:
    query = "&".join(f"p{index}=v" for index in range(3_000))
    body = problem(client.get(f"/users?{query}"), 400, "validation")
    # The first ones, as many as the document promises at most.
    assert [error["field"] for error in body["errors"]] == [
        f"p{index}" for index in range(MAX_PROBLEM_ERRORS)
    ]


META_CHARACTERS = [
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    '" OR ""="',
    "100%",
    "_",
    "%_%",
    "back\\slash",
    "$1; SELECT pg_sleep(10)",
    '{"name": "nested"}',
    '"},{"id":1,"name":"x',
    "[null]",
    "\\u0000",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
    "?name=&limit=100#",
]


@pytest.mark.parametrize("name", META_CHARACTERS)
@pytest.mark.usefixtures("existing")
def test_meta_characters_are_stored_and_returned_literally(client: TestClient, name: str) -> None:
    email = "o'hara+%_{}|~$&*=?^`#!/@example.com"  # quotes and LIKE wildcards are atext
    created = client.post("/users", json={"name": name, "email": email, "other": name})
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["name"], user["email"], user["other"]) == (name, email, name)
    assert client.get(f"/users/{user['id']}").json() == user
    by_name = client.get("/users", params={"name": name, "total": "true"}).json()
    assert (by_name["users"], by_name["total"]) == ([user], 1)
    by_email = client.get("/users", params={"email": email, "total": "true"}).json()
    assert (by_email["users"], by_email["total"]) == ([user], 1)
    assert _everything(client)["total"] == 2  # the table and the first user are still there


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("pattern", ["%", "_", "%a%", "a_a", "*", ".*", "' OR '1'='1"])
def test_filters_are_not_patterns(client: TestClient, pattern: str) -> None:
    page = client.get("/users", params={"name": pattern, "total": "true"}).json()
    assert (page["users"], page["total"]) == ([], 0)
    page = client.get("/users", params={"email": pattern, "total": "true"}).json()
    assert (page["users"], page["total"]) == ([], 0)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "query", ["name=ada%00", "email=ada%00@example.com", "name=%00&total=true"]
)
def test_a_filter_holding_nul_matches_nothing(client: TestClient, query: str) -> None:
    # Found by schemathesis: PostgreSQL refuses NUL in a parameter, and that was a 500.
    response = client.get(f"/users?{query}")
    assert response.status_code == 200
    assert response.json()["users"] == []


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("user_id", ["0", str(2**63), str(2**64), "-1", "-0", "1.0", "0x10"])
def test_ids_outside_1_to_2_63_minus_1_are_400(
    client: TestClient, problem: ProblemCheck, user_id: str
) -> None:
    for method, body in [("GET", None), ("PUT", {"name": "x"}), ("PATCH", {}), ("DELETE", None)]:
        response = client.request(method, f"/users/{user_id}", json=body)
        problem(response, 400, "validation", "id")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("user_id", [str(2**63 - 1), "0" * 100 + "9223372036854775807"])
def test_the_largest_id_is_a_valid_id_of_no_user(
    client: TestClient, problem: ProblemCheck, user_id: str
) -> None:
    for method, body in [("GET", None), ("PUT", {"name": "x"}), ("PATCH", {}), ("DELETE", None)]:
        response = client.request(method, f"/users/{user_id}", json=body)
        problem(response, 404, "not-found")
    for if_match in ('"1"', '"9223372036854775807"', '"9223372036854775808"'):
        response = client.delete(f"/users/{user_id}", headers={"if-match": if_match})
        problem(response, 404, "not-found")
