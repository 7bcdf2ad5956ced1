"""Debian's chromium, driven by Playwright, for the tests that use the API page as a person would.

Playwright's Python package carries its driver inside its wheel (pinned in the lock files), and
never downloads a browser here: ``executable_path`` names Debian's ``chromium``, which .ci/run
installs. Each page lives in a context of its own that may reach the service only: a request
anywhere else is refused and recorded, as is every error the page logs (a Content-Security-Policy
violation is one), so a test can assert that the page worked offline and within its policy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Route,
    expect,
    sync_playwright,
)

# Background networking, sync and component updates are off: they would try to reach the
# internet, which this machine does not have. Playwright adds --headless and --no-sandbox.
CHROMIUM_FLAGS = (
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TIMEOUT_MS = 30_000
"""The longest any step waits (for the page to render, for a response)."""


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, for as long as the ``with`` block runs."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What went wrong on a page: errors it logged or raised, requests sent elsewhere."""

    errors: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error: Exception) -> None:
        self.errors.append(str(error))


@contextmanager
def service_page(browser: Browser, base_url: str) -> Iterator[tuple[Page, PageLog]]:
    """A fresh page (no stored state) that reaches ``base_url`` only, and its log."""
    origin = urlsplit(base_url)
    log = PageLog()

    def only_the_service(route: Route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            log.elsewhere.append(route.request.url)
            route.abort()

    context = browser.new_context(base_url=base_url)
    try:
        context.set_default_timeout(TIMEOUT_MS)
        context.route("**/*", only_the_service)
        page = context.new_page()
        page.on("console", log.on_console)
        page.on("pageerror", log.on_page_error)
        yield page, log
    finally:
        context.close()


def assert_worked_offline(log: PageLog) -> None:
    """Nothing was asked of another host, nothing was refused by the policy, nothing failed."""
    assert log.elsewhere == []
    assert log.errors == []


# The API page is Swagger UI: each operation is a block #operations-<tag>-<operationId>.


def open_docs(page: Page) -> None:
    """Open ``/docs`` and wait until the viewer has rendered the operations."""
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()


def operation(page: Page, tag: str, operation_id: str) -> Locator:
    """The block of one operation on the API page."""
    return page.locator(f"#operations-{tag}-{operation_id}")


def create_user_from_the_page(page: Page, name: str) -> Locator:
    """Send ``POST /users`` with this name from the page; the response as the page shows it."""
    create = operation(page, "users", "createUser")
    summary = create.locator(".opblock-summary-control")
    if summary.get_attribute("aria-expanded") != "true":  # deep linking reopens it on reload
        summary.click()
    # "Try it out" is on from the start (tryItOutEnabled): its button offers to cancel it.
    expect(create.locator(".try-out__btn")).to_have_text("Cancel")
    create.locator("textarea.body-param__text").fill(json.dumps({"name": name}))
    create.get_by_role("button", name="Execute").click()
    return create.locator(".live-responses-table .response")
