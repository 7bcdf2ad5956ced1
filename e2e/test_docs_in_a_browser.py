"""The API page in a real headless browser, offline: every operation shown, and a user created
from the page the way a person would (``e2e/browser.py`` drives Debian's chromium)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.browser import (
    PageLog,
    assert_worked_offline,
    chromium,
    create_user_from_the_page,
    open_docs,
    operation,
    service_page,
)
from e2e.server import RunningServer

_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


@pytest.fixture(scope="module")
def browser(server: RunningServer) -> Iterator[Browser]:
    # After the server, so before it stops: while Playwright runs, its event loop occupies this
    # thread, and the server's database is created and dropped with asyncio.run.
    del server
    with chromium() as browser:
        yield browser


@pytest.fixture
def docs(browser: Browser, server: RunningServer) -> Iterator[tuple[Page, PageLog]]:
    """``/docs`` opened, once the viewer has rendered the operations."""
    with service_page(browser, server.base_url) as (page, log):
        open_docs(page)
        yield page, log


def test_the_docs_page_shows_every_operation(docs: tuple[Page, PageLog], api: httpx.Client) -> None:
    page, log = docs
    document: dict[str, Any] = api.get("/openapi.json").json()
    operations = [
        (method.upper(), path, entry["tags"][0], entry["operationId"])
        for path, item in document["paths"].items()
        for method, entry in item.items()
        if method in _HTTP_METHODS
    ]
    assert {"createUser", "listUsers", "getUser", "replaceUser", "patchUser", "deleteUser"} <= {
        operation_id for *_, operation_id in operations
    }

    expect(page.locator(".opblock")).to_have_count(len(operations))
    for method, path, tag, operation_id in operations:
        block = operation(page, tag, operation_id)
        expect(block.locator(".opblock-summary-method")).to_have_text(method)
        expect(block.locator(".opblock-summary-path")).to_have_attribute("data-path", path)
    assert_worked_offline(log)


def test_a_user_created_from_the_page_exists(docs: tuple[Page, PageLog], api: httpx.Client) -> None:
    page, log = docs
    name = f"from-the-page-{uuid.uuid4().hex[:8]}"

    answer = create_user_from_the_page(page, name)
    expect(answer.locator(".response-col_status")).to_have_text("201")
    expect(answer.locator(".response-col_description")).to_contain_text(name)
    found = api.get("/users", params={"name": name})
    assert [user["name"] for user in found.json()["users"]] == [name]
    assert_worked_offline(log)
