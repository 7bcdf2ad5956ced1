"""The API page when authentication is on: a token given to "Authorize" is sent with the requests
made from the page, and kept when the page is reloaded (``persistAuthorization``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import httpx2 as httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from playwright.sync_api import Browser, Page, expect

from e2e.browser import (
    PageLog,
    assert_worked_offline,
    chromium,
    create_user_from_the_page,
    open_docs,
    service_page,
)
from e2e.server import RunningServer

AUDIENCE = "user-service"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def server_settings(
    signing_key: rsa.RSAPrivateKey, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Authentication on, with a JWKS file of the one key that signs this module's tokens."""
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = tmp_path_factory.mktemp("auth") / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "docs-1", "alg": "RS256", "use": "sig"}]}))
    return {"USER_SERVICE_AUTH_JWKS": str(jwks), "USER_SERVICE_AUTH_AUDIENCE": AUDIENCE}


@pytest.fixture
def token(signing_key: rsa.RSAPrivateKey) -> str:
    now = int(time.time())
    claims = {
        "sub": "a-person",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "scope": "users:read users:write",
    }
    return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": "docs-1"})


@pytest.fixture(scope="module")
def browser(server: RunningServer) -> Iterator[Browser]:
    # After the server, so before it stops: while Playwright runs, its event loop occupies this
    # thread, and the server's database is created and dropped with asyncio.run.
    del server
    with chromium() as browser:
        yield browser


@pytest.fixture
def docs(browser: Browser, server: RunningServer) -> Iterator[tuple[Page, PageLog]]:
    with service_page(browser, server.base_url) as (page, log):
        open_docs(page)
        yield page, log


def test_a_token_given_to_authorize_is_sent_and_kept(
    docs: tuple[Page, PageLog], api: httpx.Client, token: str
) -> None:
    page, log = docs
    refused = create_user_from_the_page(page, f"no-token-{uuid.uuid4().hex[:8]}")
    expect(refused.locator(".response-col_status")).to_have_text("401")
    # The browser logs a refused request as an error; this one was meant to be refused.
    assert log.errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    log.errors.clear()

    page.locator("button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#auth-bearer-value").fill(token)
    dialog.get_by_role("button", name="Apply credentials").click()
    dialog.get_by_role("button", name="Close").click()
    page.reload()
    page.locator(".opblock").first.wait_for()
    expect(page.locator("button.authorize")).to_have_class("btn authorize locked")

    name = f"with-a-token-{uuid.uuid4().hex[:8]}"
    created = create_user_from_the_page(page, name)
    expect(created.locator(".response-col_status")).to_have_text("201")
    found = api.get("/users", params={"name": name}, headers={"Authorization": f"Bearer {token}"})
    assert [user["name"] for user in found.json()["users"]] == [name]
    assert_worked_offline(log)
