"""The API page renders in a real headless browser, offline, and shows every operation."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import httpx2 as httpx
import pytest

from e2e.server import RunningServer

# Debian's chromium (installed by .ci/run). Background networking, sync and component updates
# are off: they would try to reach the internet, which this machine does not have.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
)
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def rendered_dom(url: str) -> str:
    """The page's DOM after the browser loaded and ran it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    return result.stdout


def test_the_docs_page_shows_every_operation(server: RunningServer, api: httpx.Client) -> None:
    document = api.get("/openapi.json").json()
    operations = [
        (method.upper(), path, operation["operationId"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in _HTTP_METHODS
    ]
    page = _VisibleText()
    page.feed(rendered_dom(f"{server.base_url}/docs"))
    text = " ".join(" ".join(page.chunks).split())

    user_operations = {
        "createUser",
        "listUsers",
        "getUser",
        "replaceUser",
        "patchUser",
        "deleteUser",
    }
    assert user_operations <= {operation_id for _, _, operation_id in operations}
    for method, path, operation_id in operations:
        assert operation_id in page.ids, f"{method} {path} has no section on the page"
        assert f"{method} {path}" in text, f"{method} {path} is not shown"
