"""The route table: every path, method and endpoint, each with the operation it documents.

Besides it, :func:`viewer_routes` serves the files of the API page, which are no operation of
the API and so are not in its document.
"""

from __future__ import annotations

from typing import Final

from starlette.routing import Route

from user_http.auth import READ_SCOPE, WRITE_SCOPE
from user_http.body import MERGE_PATCH_MEDIA_TYPES
from user_http.docs import DocsEndpoints
from user_http.docs_viewer import ASSETS_PATH
from user_http.metrics_endpoint import MetricsEndpoint
from user_http.operations import ApiRoute, Link, Operation, Reply
from user_http.probes import ProbeEndpoints
from user_http.responses import JSON
from user_http.schemas import HealthStatus, UserInput, UserMergePatch, UserPage, UserResource
from user_http.users import UserEndpoints

USERS: Final = "users"
HEALTH: Final = "health"
DOCUMENTATION: Final = "documentation"

_ID = {"id": "$response.body#/id"}
_ID_AND_TAG = {**_ID, "If-Match": "$response.header.ETag"}
_READ = {"GetUser": Link("getUser", _ID)}
_WRITE = {
    "ReplaceUser": Link("replaceUser", _ID_AND_TAG),
    "PatchUser": Link("patchUser", _ID_AND_TAG),
    "DeleteUser": Link("deleteUser", _ID_AND_TAG),
}
_USER_REPLY = Reply("The user as it is now.", UserResource, headers=("ETag",), links=_WRITE)


def route_table(
    users: UserEndpoints,
    probes: ProbeEndpoints,
    docs: DocsEndpoints,
    metrics: MetricsEndpoint | None = None,
) -> list[ApiRoute]:
    """Every route of the API, in matching order; ``/metrics`` only with ``metrics``."""
    return [
        ApiRoute(
            "/users",
            "POST",
            users.create,
            Operation(
                "createUser",
                "Create a user",
                "Stores a new user at version 1. With `Idempotency-Key`, safe to retry.",
                USERS,
                {
                    201: Reply(
                        "Created (or, for a retry under the same `Idempotency-Key`, the response "
                        "to its first request).",
                        UserResource,
                        headers=("Location", "ETag"),
                        links={**_READ, **_WRITE},
                    )
                },
                problems=(400, 409, 422, 503),
                parameters=("IdempotencyKey",),
                body=UserInput,
                scope=WRITE_SCOPE,
            ),
        ),
        ApiRoute(
            "/users",
            "GET",
            users.list,
            Operation(
                "listUsers",
                "List users",
                "One page of users in ascending id order, by `offset` or by `cursor`, "
                "optionally filtered by exact name and email (compared as a person reads them).",
                USERS,
                {
                    200: Reply(
                        "One page.",
                        UserPage,
                        headers=("Link",),
                        links={
                            "NextPage": Link("listUsers", {"cursor": "$response.body#/next_cursor"})
                        },
                    )
                },
                problems=(400, 503),
                parameters=("Limit", "Offset", "Cursor", "NameFilter", "EmailFilter", "Total"),
                scope=READ_SCOPE,
            ),
        ),
        ApiRoute(
            "/users/{id}",
            "GET",
            users.get,
            Operation(
                "getUser",
                "Get a user",
                "The user and its `ETag`; `304` if `If-None-Match` lists the current one.",
                USERS,
                {
                    200: _USER_REPLY,
                    304: Reply("Not modified: the listed tag is current.", headers=("ETag",)),
                },
                problems=(400, 404, 503),
                parameters=("UserId", "IfNoneMatch"),
                scope=READ_SCOPE,
            ),
        ),
        ApiRoute(
            "/users/{id}",
            "PUT",
            users.replace,
            Operation(
                "replaceUser",
                "Replace a user",
                "Sets every field; an absent optional field becomes null. Always a new version.",
                USERS,
                {200: _USER_REPLY},
                problems=(400, 404, 409, 412, 503),
                parameters=("UserId", "IfMatch"),
                body=UserInput,
                scope=WRITE_SCOPE,
            ),
        ),
        ApiRoute(
            "/users/{id}",
            "PATCH",
            users.patch,
            Operation(
                "patchUser",
                "Change some fields of a user",
                "A JSON merge patch (RFC 7396): absent fields stay, `null` clears `email` or "
                "`other`. Always a new version, even for `{}`.",
                USERS,
                {200: _USER_REPLY},
                problems=(400, 404, 409, 412, 503),
                parameters=("UserId", "IfMatch"),
                body=UserMergePatch,
                body_media_types=tuple(sorted(MERGE_PATCH_MEDIA_TYPES, reverse=True)),
                scope=WRITE_SCOPE,
            ),
        ),
        ApiRoute(
            "/users/{id}",
            "DELETE",
            users.delete,
            Operation(
                "deleteUser",
                "Delete a user",
                "Removes the user; its id is never reused.",
                USERS,
                {204: Reply("Deleted.")},
                problems=(400, 404, 412, 503),
                parameters=("UserId", "IfMatch"),
                scope=WRITE_SCOPE,
            ),
        ),
        ApiRoute(
            "/livez",
            "GET",
            probes.livez,
            Operation(
                "livez",
                "Liveness",
                "`200` while the process runs.",
                HEALTH,
                {200: Reply("Alive.", HealthStatus)},
            ),
        ),
        ApiRoute(
            "/readyz",
            "GET",
            probes.readyz,
            Operation(
                "readyz",
                "Readiness",
                "`200` when the database is reachable and migrated; `503` otherwise and once "
                "shutdown has begun.",
                HEALTH,
                {200: Reply("Ready.", HealthStatus)},
                problems=(503,),
            ),
        ),
        *([] if metrics is None else [_metrics_route(metrics)]),
        ApiRoute(
            "/openapi.json",
            "GET",
            docs.openapi,
            Operation(
                "getOpenApi",
                "This document",
                "The OpenAPI 3.1 document of the API.",
                DOCUMENTATION,
                {200: Reply("The document.", {"type": "object"}, media_type=JSON)},
            ),
        ),
        ApiRoute(
            "/docs",
            "GET",
            docs.page,
            Operation(
                "getDocs",
                "API page",
                "This document in Swagger UI, served by the service itself: every operation "
                "can be sent from the page.",
                DOCUMENTATION,
                {
                    200: Reply(
                        "The page.", {"type": "string", "maxLength": 2**20}, media_type="text/html"
                    )
                },
            ),
        ),
    ]


def viewer_routes(docs: DocsEndpoints) -> list[Route]:
    """The files the API page loads: one route, so one route label whatever the name asked."""
    return [Route(f"{ASSETS_PATH}/{{name}}", docs.asset, methods=["GET"], name="docsAsset")]


def _metrics_route(metrics: MetricsEndpoint) -> ApiRoute:
    return ApiRoute(
        "/metrics",
        "GET",
        metrics.metrics,
        Operation(
            "getMetrics",
            "Metrics",
            "Requests, latencies, database statements and connection pool use, in the "
            "Prometheus text format.",
            HEALTH,
            {200: Reply("The metrics.", {"type": "string"}, media_type="text/plain")},
        ),
    )
