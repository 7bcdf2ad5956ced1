"""The original Go service's functional scenarios, against the real server over TCP."""

from __future__ import annotations

import uuid

import httpx2 as httpx


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_create_then_get_returns_the_same_user(api: httpx.Client) -> None:
    name = unique("porucznik")
    created = api.post("/users", json={"name": name, "other": "system admin"})
    assert created.status_code == 201
    user = created.json()
    assert created.headers["location"] == f"/users/{user['id']}"
    fetched = api.get(created.headers["location"])
    assert fetched.status_code == 200
    assert fetched.json() == user
    assert (user["name"], user["other"], user["version"]) == (name, "system admin", 1)


def test_creating_a_duplicate_name_is_a_conflict(api: httpx.Client) -> None:
    name = unique("twin")
    assert api.post("/users", json={"name": name}).status_code == 201
    duplicate = api.post("/users", json={"name": name.upper()})
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["errors"] == [{"field": "name", "message": "is already taken"}]


def test_creating_with_an_empty_name_is_a_bad_request(api: httpx.Client) -> None:
    response = api.post("/users", json={"name": ""})
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "name", "message": "must not be empty"}]


def test_getting_a_missing_user_is_not_found(api: httpx.Client) -> None:
    response = api.get(f"/users/{2**63 - 1}")
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_replace_changes_the_user_and_its_version(api: httpx.Client) -> None:
    user = api.post("/users", json={"name": unique("before"), "other": "x"}).json()
    new_name = unique("after")
    replaced = api.put(f"/users/{user['id']}", json={"name": new_name}, headers={"If-Match": '"1"'})
    assert replaced.status_code == 200
    assert replaced.headers["etag"] == '"2"'
    body = replaced.json()
    assert (body["name"], body["other"], body["version"]) == (new_name, None, 2)
    assert body["updated_at"] is not None
    assert api.get(f"/users/{user['id']}").json() == body


def test_delete_removes_the_user(api: httpx.Client) -> None:
    user = api.post("/users", json={"name": unique("gone")}).json()
    deleted = api.delete(f"/users/{user['id']}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/users/{user['id']}").status_code == 404


def test_listing_pages_through_every_user_by_offset_and_by_cursor(api: httpx.Client) -> None:
    tag = unique("page")
    ids = [api.post("/users", json={"name": f"{tag}-{n}"}).json()["id"] for n in range(7)]

    by_offset: list[int] = []
    offset = 0
    while True:
        page = api.get("/users", params={"limit": 3, "offset": offset}).json()
        by_offset += [user["id"] for user in page["users"]]
        assert page["count"] == len(page["users"])
        if page["count"] < 3:
            break
        offset += 3

    by_cursor: list[int] = []
    url: str | None = "/users?limit=3"
    while url is not None:
        response = api.get(url)
        by_cursor += [user["id"] for user in response.json()["users"]]
        url = response.links.get("next", {}).get("url")

    assert set(ids) <= set(by_offset)
    assert by_offset == sorted(by_offset)
    assert by_cursor == by_offset
