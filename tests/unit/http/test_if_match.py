"""``If-Match`` on ``PUT``, ``PATCH`` and ``DELETE``: optimistic concurrency with strong ETags.

An ``If-Match`` that is not a list of entity tags is ``400``, not ``412``: a ``412`` would send
the client to re-read the user and retry with the same broken header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

ProblemCheck = Callable[..., dict[str, Any]]
UserFactory = Callable[..., dict[str, Any]]
WRITES = ["PUT", "PATCH", "DELETE"]


def _write(client: TestClient, method: str, user_id: int, if_match: str | None) -> Any:
    headers = {} if if_match is None else {"if-match": if_match}
    body = None if method == "DELETE" else {"name": "lovelace"}
    return client.request(method, f"/users/{user_id}", json=body, headers=headers)


@pytest.fixture
def user_at_version_2(client: TestClient, make_user: UserFactory) -> dict[str, Any]:
    user = make_user("ada")
    changed: dict[str, Any] = client.patch(f"/users/{user['id']}", json={"other": "x"}).json()
    assert changed["version"] == 2
    return changed


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("if_match", [None, '"2"', "*", '"1", "2"', '"2", "7", W/"1"', ' "2" ,'])
def test_a_write_matching_the_current_etag_succeeds(
    client: TestClient, user_at_version_2: dict[str, Any], method: str, if_match: str | None
) -> None:
    response = _write(client, method, user_at_version_2["id"], if_match)
    assert response.status_code == (204 if method == "DELETE" else 200)
    if method != "DELETE":
        assert response.headers["etag"] == '"3"'


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("if_match", ['"1"', 'W/"2"', '"1", "3"', '"02"', '"abc"', '"0"'])
def test_a_write_with_a_stale_or_weak_etag_is_412_and_changes_nothing(
    client: TestClient,
    user_at_version_2: dict[str, Any],
    problem: ProblemCheck,
    method: str,
    if_match: str,
) -> None:
    user_id = user_at_version_2["id"]
    problem(_write(client, method, user_id, if_match), 412, "precondition-failed")
    assert client.get(f"/users/{user_id}").json() == user_at_version_2


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("if_match", ["2", '"2', "W/2", '"2" "3"', "**", ""])
def test_an_unparseable_if_match_is_400_naming_the_header(
    client: TestClient,
    user_at_version_2: dict[str, Any],
    problem: ProblemCheck,
    method: str,
    if_match: str,
) -> None:
    user_id = user_at_version_2["id"]
    problem(_write(client, method, user_id, if_match), 400, "validation", "If-Match")
    assert client.get(f"/users/{user_id}").json() == user_at_version_2


@pytest.mark.parametrize("method", WRITES)
@pytest.mark.parametrize("if_match", ["*", '"1"', '"1", "2"', 'W/"1"'])
def test_if_match_on_an_unknown_user_is_404(
    client: TestClient, problem: ProblemCheck, method: str, if_match: str
) -> None:
    problem(_write(client, method, 4242, if_match), 404, "not-found")


def test_a_client_that_read_an_old_version_cannot_overwrite_a_newer_one(
    client: TestClient, make_user: UserFactory, problem: ProblemCheck
) -> None:
    user = make_user("ada")
    etag = client.get(f"/users/{user['id']}").headers["etag"]
    assert (
        client.put(
            f"/users/{user['id']}", json={"name": "first"}, headers={"if-match": etag}
        ).status_code
        == 200
    )
    second = client.put(f"/users/{user['id']}", json={"name": "second"}, headers={"if-match": etag})
    problem(second, 412, "precondition-failed")
    assert client.get(f"/users/{user['id']}").json()["name"] == "first"
