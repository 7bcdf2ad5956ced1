"""The original Go service's client, replayed byte for byte against the service on PostgreSQL.

That client is Go's ``net/http`` with ``encoding/json``: ``http.NewRequest`` with the marshalled
``User`` struct and ``client.Do``, so no ``Content-Type``, the whole struct as the body (Go's zero
values included: ``"id":0``, ``"other":""``, ``"created_at":"0001-01-01T00:00:00Z"``) and, on
``PUT``, a user it read earlier sent back. Each request below is the exact bytes it writes on the
wire, parsed by h11 as a server would; each answer is read as its ``json.Unmarshal`` into
``User`` reads it (unknown fields ignored, ``null`` into a string leaving ``""``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import h11
import httpx2 as httpx
from starlette.testclient import TestClient

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class GoUser:
    """The Go client's ``User``: ``ID``, ``Name``, ``Other``, ``CreatedAt``, ``*UpdatedAt``."""

    id: int
    name: str
    other: str
    created_at: datetime
    updated_at: datetime | None

    def marshal(self) -> bytes:
        """``json.Marshal(user)``: fields in struct order, ``updated_at`` omitted when nil."""
        fields: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "other": self.other,
            "created_at": _go_time(self.created_at),
        }
        if self.updated_at is not None:
            fields["updated_at"] = _go_time(self.updated_at)
        text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        # encoding/json escapes HTML's special characters and the JavaScript line separators.
        for char in "<>&\u2028\u2029":
            text = text.replace(char, f"\\u{ord(char):04x}")
        return text.encode()


def _go_time(moment: datetime) -> str:
    """``time.Time``'s JSON: RFC 3339 with nanoseconds, trailing zeros of the fraction dropped."""
    if moment == datetime(1, 1, 1, tzinfo=UTC):
        return GO_ZERO_TIME
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def _unmarshal(fields: dict[str, Any]) -> GoUser:
    """``json.Unmarshal`` into ``User``: unknown fields ignored, ``null`` leaves the zero value."""
    updated_at = fields.get("updated_at")
    return GoUser(
        id=fields["id"],
        name=fields["name"] or "",
        other=fields.get("other") or "",
        created_at=datetime.fromisoformat(fields["created_at"]),
        updated_at=None if updated_at is None else datetime.fromisoformat(updated_at),
    )


def go_request(method: str, path: str, body: bytes | None = None) -> bytes:
    """What ``client.Do(http.NewRequest(method, url, body))`` writes: Go's headers, in its order."""
    head = f"{method} {path} HTTP/1.1\r\nHost: testserver\r\nUser-Agent: Go-http-client/1.1\r\n"
    if body is not None:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "Accept-Encoding: gzip\r\n\r\n").encode() + (body or b"")


def replay(client: TestClient, raw: bytes) -> httpx.Response:
    """Send the request in ``raw`` as it is: only its own headers, its own body."""
    connection = h11.Connection(h11.SERVER)
    connection.receive_data(raw)
    head = connection.next_event()
    assert isinstance(head, h11.Request)
    body = b""
    while not isinstance(event := connection.next_event(), h11.EndOfMessage):
        assert isinstance(event, h11.Data)
        body += event.data
    request = httpx.Request(
        head.method.decode(),
        f"http://testserver{head.target.decode()}",
        headers=list(head.headers),
        content=body,
    )
    assert dict(request.headers) == {name.decode(): value.decode() for name, value in head.headers}
    return client.send(request)


def _go_create(client: TestClient, name: str, other: str = "") -> GoUser:
    user = GoUser(0, name, other, datetime(1, 1, 1, tzinfo=UTC), None)
    response = replay(client, go_request("POST", "/users", user.marshal()))
    assert response.status_code == 201, response.text
    created = _unmarshal(response.json())
    assert response.headers["location"] == f"/users/{created.id}"
    return created


def test_the_go_clients_create_request_creates_the_user(client: TestClient) -> None:
    raw = go_request(
        "POST", "/users", b'{"id":0,"name":"ann","other":"","created_at":"0001-01-01T00:00:00Z"}'
    )
    assert b"Content-Type" not in raw
    before = datetime.now(UTC)
    response = replay(client, raw)
    assert response.status_code == 201, response.text
    created = _unmarshal(response.json())
    assert created.id > 0
    assert (created.name, created.other, created.updated_at) == ("ann", "", None)
    assert before - timedelta(seconds=5) <= created.created_at <= datetime.now(UTC)


def test_the_go_clients_read_request_reads_the_user(client: TestClient) -> None:
    created = _go_create(client, "Ann & Bob <admins>", "ops")
    response = replay(client, go_request("GET", f"/users/{created.id}"))
    assert response.status_code == 200
    assert _unmarshal(response.json()) == created


def test_the_go_clients_replace_request_sends_back_what_it_read(client: TestClient) -> None:
    created = _go_create(client, "bob", "first")
    fetched = _unmarshal(replay(client, go_request("GET", f"/users/{created.id}")).json())
    changed = GoUser(fetched.id, "bobby", "second", fetched.created_at, fetched.updated_at)
    assert b'"updated_at"' not in changed.marshal()  # nil before the first change: omitted
    response = replay(client, go_request("PUT", f"/users/{created.id}", changed.marshal()))
    assert response.status_code == 200, response.text
    replaced = _unmarshal(response.json())
    assert (replaced.id, replaced.name, replaced.other) == (created.id, "bobby", "second")
    assert replaced.created_at == created.created_at
    assert replaced.updated_at is not None

    again = GoUser(replaced.id, "bobby", "", replaced.created_at, replaced.updated_at)
    assert b'"updated_at"' in again.marshal()  # set now: sent back as read
    response = replay(client, go_request("PUT", f"/users/{created.id}", again.marshal()))
    assert response.status_code == 200, response.text
    assert _unmarshal(response.json()).other == ""
    assert _unmarshal(replay(client, go_request("GET", f"/users/{created.id}")).json()) == (
        _unmarshal(response.json())
    )


def test_the_go_clients_list_request_reads_users_and_count(client: TestClient) -> None:
    created = [_go_create(client, name) for name in ("carl", "dora", "emil")]
    response = replay(client, go_request("GET", "/users"))
    assert response.status_code == 200
    page = response.json()
    assert [_unmarshal(user) for user in page["users"]] == created
    assert page["count"] == len(created)


def test_the_go_clients_delete_request_deletes_the_user(client: TestClient) -> None:
    created = _go_create(client, "fred")
    response = replay(client, go_request("DELETE", f"/users/{created.id}"))
    assert (response.status_code, response.content) == (204, b"")
    assert replay(client, go_request("GET", f"/users/{created.id}")).status_code == 404


def test_the_go_clients_replace_of_another_id_is_400_and_changes_nothing(
    client: TestClient,
) -> None:
    first, second = _go_create(client, "gina"), _go_create(client, "hugo")
    wrong = GoUser(second.id, "gina2", "", first.created_at, None)
    response = replay(client, go_request("PUT", f"/users/{first.id}", wrong.marshal()))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["id"]
    users = replay(client, go_request("GET", "/users")).json()["users"]
    assert [_unmarshal(user) for user in users] == [first, second]


def test_a_body_without_content_type_that_is_not_json_is_400_not_415(client: TestClient) -> None:
    response = replay(client, go_request("POST", "/users", b"name=ivan&other="))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert replay(client, go_request("GET", "/users")).json()["count"] == 0
