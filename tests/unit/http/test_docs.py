"""``/docs``: Swagger UI on the service's own document, every file of it served by the service."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app
from user_http.docs_viewer import ASSETS, ASSETS_PATH, CONTENT_SECURITY_POLICY

ProblemCheck = Callable[..., dict[str, Any]]

JAVASCRIPT = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"


class _Page(HTMLParser):
    """The page's scripts (inline ones as ``None``) and every URL it names."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.urls: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes.get("src"))
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _page(client: TestClient) -> _Page:
    page = _Page()
    page.feed(client.get("/docs").text)
    return page


def _policy(header: str) -> dict[str, list[str]]:
    directives = (directive.split() for directive in header.split(";") if directive.strip())
    return {name: sources for name, *sources in directives}


def test_the_page_is_html_with_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    policy = _policy(CONTENT_SECURITY_POLICY)
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_page_has_no_inline_script_and_names_only_the_service_s_own_files(
    client: TestClient,
) -> None:
    page = _page(client)
    assert page.scripts == [
        "docs/assets/swagger-ui-bundle.js",
        "docs/assets/swagger-init.js",
    ]
    for url in page.urls:
        assert "//" not in url, url
        assert url in {"data:,", "openapi.json"} or url.startswith("docs/assets/"), url


def test_every_file_the_page_names_is_served(client: TestClient) -> None:
    files = [url for url in _page(client).urls if url.startswith("docs/assets/")]
    assert {url.rsplit("/", 1)[1] for url in files} == set(ASSETS)
    for url in files:
        # The page is /docs: its relative URLs resolve from the root.
        assert client.get(f"/{url}").status_code == 200, url


def test_the_page_is_titled_like_the_document() -> None:
    app = create_app(UserService(InMemoryUserRepository(), FixedClock()), title="Users <&> co")
    with TestClient(app) as client:
        assert _page(client).title == "Users <&> co"
        assert "<title>Users &lt;&amp;&gt; co</title>" in client.get("/docs").text


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("swagger-ui-bundle.js", JAVASCRIPT),
        ("swagger-ui.css", CSS),
        ("swagger-init.js", JAVASCRIPT),
    ],
)
def test_assets_are_served_with_their_media_type_and_a_tag_to_revalidate(
    client: TestClient, name: str, media_type: str
) -> None:
    response = client.get(f"{ASSETS_PATH}/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.content == ASSETS[name].path.read_bytes()
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_asset_the_client_has_is_304_without_a_body(client: TestClient) -> None:
    url = f"{ASSETS_PATH}/swagger-ui-bundle.js"
    tag = client.get(url).headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_answers_an_asset_without_its_body(client: TestClient) -> None:
    response = client.head(f"{ASSETS_PATH}/swagger-ui.css")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == CSS


@pytest.mark.parametrize(
    "path",
    [
        # Files of the viewer's package that the page does not need stay unserved.
        f"{ASSETS_PATH}/swagger-editor-bundle.js",
        f"{ASSETS_PATH}/oauth2-redirect.html",
        f"{ASSETS_PATH}/swagger-ui-bundle.js.map",
        f"{ASSETS_PATH}/..%2Fdocs_viewer.py",
        f"{ASSETS_PATH}/",
        f"{ASSETS_PATH}/swagger-init.js/more",
        "/docs/",
    ],
)
def test_anything_else_under_docs_is_a_404_problem(
    client: TestClient, problem: ProblemCheck, path: str
) -> None:
    problem(client.get(path), 404, "not-found")


def test_assets_can_only_be_read(client: TestClient, problem: ProblemCheck) -> None:
    response = client.post(f"{ASSETS_PATH}/swagger-init.js", content=b"x")
    problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "GET, HEAD"


def test_the_assets_are_no_operation_of_the_document(client: TestClient) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    assert not [path for path in document["paths"] if path.startswith(ASSETS_PATH)]
    assert document["paths"]["/docs"]["get"]["operationId"] == "getDocs"


def test_the_viewer_is_swagger_ui_5(client: TestClient) -> None:
    bundle = client.get(f"{ASSETS_PATH}/swagger-ui-bundle.js").text
    versions = set(re.findall(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle))
    assert len(versions) == 1
    major, _, _ = versions.pop()
    assert int(major) >= 5  # the first Swagger UI that reads OpenAPI 3.1


def test_the_boot_script_loads_the_document_beside_the_page_and_can_send_requests(
    client: TestClient,
) -> None:
    script = client.get(f"{ASSETS_PATH}/swagger-init.js").text
    settings = dict(re.findall(r"^\s*(\w+): (.+),$", script, re.MULTILINE))
    assert settings["url"] == 'new URL("openapi.json", document.baseURI).href'
    assert settings["tryItOutEnabled"] == "true"
    assert settings["persistAuthorization"] == "true"
    assert settings["validatorUrl"] == "null"
    assert settings["queryConfigEnabled"] == "false"
