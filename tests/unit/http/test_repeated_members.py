"""A member name given twice in a body is ``400`` naming it, on every method (I-JSON, RFC 7493).

msgspec keeps the last value, a proxy may keep the first: refusing both keeps everyone agreeing
about what was stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from user_http.body import BodyErrors, StrictDecoder
from user_http.schemas import UserInput

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


_NAMES = ["name", "email", "other", "id", "version", "nickname"]


@st.composite
def _object_bodies(draw: st.DrawFn) -> bytes:
    """Flat JSON objects of (mostly) known members, names sometimes repeated or escaped, string
    values sometimes holding a quoted member name."""
    members = []
    for name in draw(st.lists(st.sampled_from(_NAMES), max_size=6)):
        key = json.dumps(name, ensure_ascii=False)
        if draw(st.booleans()):
            key = '"' + "".join(f"\\u{ord(char):04x}" for char in name) + '"'
        value = draw(
            st.sampled_from(_NAMES).map(lambda text: json.dumps(f'"{text}"'))
            | st.text(max_size=8).map(json.dumps)
            | st.just("null")
        )
        members.append(f"{key}{draw(st.sampled_from(['', ' ']))}:{value}")
    return ("{" + ",".join(members) + "}").encode()


def _repeats_a_member(body: bytes) -> bool:
    repeated = False

    def members(pairs: list[tuple[str, object]]) -> None:
        nonlocal repeated
        repeated |= len({name for name, _ in pairs}) < len(pairs)

    json.loads(body, object_pairs_hook=members)
    return repeated


@given(_object_bodies())
def test_every_repeated_member_is_found(body: bytes) -> None:
    """Whether the scan for repeated members runs or is skipped (a prefilter decides)."""
    if not _repeats_a_member(body):
        return
    with pytest.raises(BodyErrors) as refused:
        StrictDecoder(UserInput).decode(body)
    assert any("more than once" in error.message for error in refused.value.errors)
