"""``/openapi.json``: a valid OpenAPI 3.1 document of every route (``/docs``: ``test_docs.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import ValidationError
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import validate as validate_instance
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import RateLimits, create_app
from user_http.conditional import ENTITY_TAGS_PATTERN
from user_http.docs_viewer import ASSETS_PATH
from user_http.errors import PROBLEM_TYPES
from user_http.openapi import HEAD_PROBLEMS
from user_http.operations import ApiRoute
from user_http.query import LIST_PARAMETERS
from user_http.schemas import MAX_BODY_BYTES, MAX_HEAD_BYTES

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _resolve(document: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    found: Any = document
    for part in value.get("$ref", "#").removeprefix("#").strip("/").split("/"):
        found = found[part] if part else found
    return found if "$ref" in value else value


def _check(document: dict[str, Any], schema: str, instance: Any) -> None:
    root = {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    validate_instance(
        instance, root, cls=OAS31Validator, format_checker=OAS31Validator.FORMAT_CHECKER
    )


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_route_is_documented_under_its_path_and_method(
    app: Starlette, document: dict[str, Any]
) -> None:
    served = {
        (route.path, route.method.lower()) for route in app.routes if isinstance(route, ApiRoute)
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    assert served == documented
    # /metrics too when the app serves metrics, as the service's own application does.
    assert {path for path, _ in served} - {"/metrics"} == {
        "/users",
        "/users/{id}",
        "/livez",
        "/readyz",
        "/openapi.json",
        "/docs",
    }
    # The API page's files alone are served without being an operation (test_docs.py).
    others = [route for route in app.routes if not isinstance(route, ApiRoute)]
    assert [getattr(route, "path", None) for route in others] == [f"{ASSETS_PATH}/{{name}}"]


def test_every_operation_documents_500_and_its_request_id(document: dict[str, Any]) -> None:
    for operation in _operations(document).values():
        assert "500" in operation["responses"]
        assert {"$ref": "#/components/parameters/RequestId"} in operation["parameters"]
        for status, reference in operation["responses"].items():
            response = _resolve(document, reference)
            if int(status) in HEAD_PROBLEMS:
                # The server's own refusals, before the API: no request id.
                assert "headers" not in response
                continue
            assert "X-Request-ID" in response["headers"]


def test_every_operation_documents_the_servers_refusals_of_a_head_over_its_limit(
    document: dict[str, Any],
) -> None:
    for operation in _operations(document).values():
        assert {"414", "431"} <= set(operation["responses"])
    schema = document["components"]["responses"]["Problem431"]["content"]
    assert schema["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/HeadProblem"
    }


@pytest.mark.parametrize(
    ("operation_id", "statuses"),
    [
        ("createUser", {"201", "400", "409", "413", "415", "422", "414", "431", "500", "503"}),
        ("getUser", {"200", "304", "400", "404", "414", "431", "500", "503"}),
        (
            "replaceUser",
            {"200", "400", "404", "409", "412", "413", "415", "414", "431", "500", "503"},
        ),
        (
            "patchUser",
            {"200", "400", "404", "409", "412", "413", "415", "414", "431", "500", "503"},
        ),
        ("deleteUser", {"204", "400", "404", "412", "414", "431", "500", "503"}),
        ("listUsers", {"200", "400", "414", "431", "500", "503"}),
        ("readyz", {"200", "414", "431", "500", "503"}),
    ],
)
def test_every_status_an_operation_answers_is_documented(
    document: dict[str, Any], operation_id: str, statuses: set[str]
) -> None:
    assert set(_operations(document)[operation_id]["responses"]) == statuses


def test_every_problem_type_has_a_problem_response() -> None:
    # 429 only where rate limiting can answer it: in the document of a rate-limited service.
    limited = create_app(
        UserService(InMemoryUserRepository(), FixedClock()), rate_limits=RateLimits()
    )
    with TestClient(limited) as client:
        responses = client.get("/openapi.json").json()["components"]["responses"]
    for kind in PROBLEM_TYPES:
        response = responses[f"Problem{kind.status}"]
        schema = response["content"]["application/problem+json"]["schema"]
        assert schema["properties"]["status"] == {"const": kind.status}
        assert set(kind.headers) <= set(response["headers"])


@pytest.mark.parametrize(
    ("operation_id", "status", "headers"),
    [
        ("createUser", "201", {"Location", "ETag", "X-Request-ID"}),
        ("getUser", "200", {"ETag", "X-Request-ID"}),
        ("getUser", "304", {"ETag", "X-Request-ID"}),
        ("replaceUser", "200", {"ETag", "X-Request-ID"}),
        ("patchUser", "200", {"ETag", "X-Request-ID"}),
        ("listUsers", "200", {"Link", "X-Request-ID"}),
    ],
)
def test_response_headers_are_documented(
    document: dict[str, Any], operation_id: str, status: str, headers: set[str]
) -> None:
    response = _operations(document)[operation_id]["responses"][status]
    # Every response may carry the CORS origin, when CORS is configured.
    assert set(response["headers"]) == headers | {"Access-Control-Allow-Origin"}


def test_parameters_are_documented(document: dict[str, Any]) -> None:
    operations = _operations(document)

    def names(operation_id: str) -> set[str]:
        return {
            _resolve(document, parameter)["name"]
            for parameter in operations[operation_id]["parameters"]
        }

    assert names("listUsers") == {*LIST_PARAMETERS, "X-Request-ID"}
    assert names("getUser") == {"id", "If-None-Match", "X-Request-ID"}
    for operation_id in ("replaceUser", "patchUser", "deleteUser"):
        assert names(operation_id) == {"id", "If-Match", "X-Request-ID"}


def test_request_bodies_name_their_media_types(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert set(operations["createUser"]["requestBody"]["content"]) == {"application/json"}
    assert set(operations["patchUser"]["requestBody"]["content"]) == {
        "application/merge-patch+json",
        "application/json",
    }


def test_links_point_to_operations_and_their_parameters(document: dict[str, Any]) -> None:
    operations = _operations(document)
    links = [
        link
        for operation in operations.values()
        for reference in operation["responses"].values()
        for link in _resolve(document, reference).get("links", {}).values()
    ]
    assert {link["operationId"] for link in links} >= {
        "getUser",
        "replaceUser",
        "patchUser",
        "deleteUser",
        "listUsers",
    }
    for link in links:
        target = operations[link["operationId"]]
        names = {_resolve(document, parameter)["name"] for parameter in target["parameters"]}
        assert set(link["parameters"]) <= names


def test_created_users_pages_and_problems_match_their_schemas(
    client: TestClient, document: dict[str, Any]
) -> None:
    created = client.post("/users", json={"name": "ada", "email": "ada@example.com"})
    _check(document, "UserResource", created.json())
    _check(document, "UserPage", client.get("/users?total=true").json())
    _check(document, "Problem", client.post("/users", json={"name": 1}).json())


def test_field_limits_come_from_the_core(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["UserResource"]["properties"]
    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (1, 100)
    assert properties["email"]["anyOf"][0]["maxLength"] == 254
    # Found by schemathesis: what a client sends may be longer, the limit applies once stripped;
    # only the body's limit bounds it.
    given = document["components"]["schemas"]["UserInput"]["properties"]
    assert (given["name"]["minLength"], given["name"]["maxLength"]) == (1, MAX_BODY_BYTES)
    assert given["email"]["anyOf"][0]["maxLength"] == MAX_BODY_BYTES
    assert document["components"]["schemas"]["UserInput"]["additionalProperties"] is False


def test_header_parameters_document_what_is_accepted(document: dict[str, Any]) -> None:
    # Found by schemathesis: any X-Request-ID is accepted (an insane one is replaced), and an
    # If-Match that is no entity-tag list is refused, so the document says both.
    parameters = document["components"]["parameters"]
    assert parameters["RequestId"]["schema"] == {"type": "string", "maxLength": MAX_HEAD_BYTES}
    assert parameters["IfMatch"]["schema"]["pattern"] == ENTITY_TAGS_PATTERN


def test_other_documents_that_it_refuses_nul(client: TestClient, document: dict[str, Any]) -> None:
    # Found by schemathesis: "other" with a NUL was schema-valid but answered 400.
    text = document["components"]["schemas"]["UserInput"]["properties"]["other"]["anyOf"][0]
    assert text["pattern"] == "^[^\\x00]*$"
    with pytest.raises(ValidationError):
        _check(document, "UserInput", {"name": "ada", "other": "a\x00b"})
    assert client.post("/users", json={"name": "ada", "other": "a\x00b"}).status_code == 400
