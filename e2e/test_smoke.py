"""Every endpoint answers over real TCP as the spec says: a smoke test of the whole surface."""

from __future__ import annotations

import uuid

import httpx2 as httpx


def test_probes_answer(api: httpx.Client) -> None:
    assert api.get("/livez").status_code == 200
    assert api.get("/readyz").json() == {"status": "ready"}


def test_the_openapi_document_and_the_docs_page_are_served(api: httpx.Client) -> None:
    document = api.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.1")
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    # The viewer's files travel in the installed package (and so in the image).
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-init.js"):
        assert api.get(f"/docs/assets/{name}").status_code == 200, name


def test_patch_and_conditional_requests(api: httpx.Client) -> None:
    name = f"patchy-{uuid.uuid4().hex[:8]}"
    created = api.post("/users", json={"name": name, "email": f"{name}@Example.COM"})
    user_url = created.headers["location"]
    assert created.json()["email"] == f"{name}@example.com"

    not_modified = api.get(user_url, headers={"If-None-Match": created.headers["etag"]})
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    patched = api.patch(
        user_url,
        content=b'{"email": null}',
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"1"'},
    )
    assert patched.status_code == 200
    assert (patched.json()["email"], patched.json()["version"]) == (None, 2)

    stale = api.delete(user_url, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert api.delete(user_url, headers={"If-Match": '"2"'}).status_code == 204


def test_every_error_is_a_problem_with_a_request_id(api: httpx.Client) -> None:
    answers = {
        405: api.request("PATCH", "/users"),
        415: api.post("/users", content=b"name=x", headers={"Content-Type": "text/plain"}),
        413: api.post(
            "/users", content=b"x" * (64 * 1024 + 1), headers={"Content-Type": "application/json"}
        ),
        400: api.get("/users/not-a-number"),
        404: api.get("/no/such/path"),
    }
    for status, response in answers.items():
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status
        assert response.headers["x-request-id"] == response.json()["request_id"]
    assert answers[405].headers["allow"] == "GET, HEAD, POST"


def test_a_sane_request_id_is_echoed(api: httpx.Client) -> None:
    response = api.get("/livez", headers={"X-Request-ID": "trace-me-123"})
    assert response.headers["x-request-id"] == "trace-me-123"
