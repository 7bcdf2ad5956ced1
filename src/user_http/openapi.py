"""The OpenAPI 3.1 document, built once from the route table and the msgspec Structs.

Operations come from each :class:`~user_http.operations.ApiRoute`, schemas from the Structs that
decode and encode the bodies, problem responses from the table in :mod:`user_http.errors`, and
limits from the core; the few parameters and headers below are the only hand-written parts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any, Final

import msgspec
from msgspec import Struct
from starlette.routing import BaseRoute

from user_core import (
    IDEMPOTENCY_RETENTION,
    MAX_USER_ID,
    MIN_USER_ID,
    Cursor,
    IdempotencyKey,
    PageRequest,
)
from user_http.conditional import ENTITY_TAGS_PATTERN
from user_http.errors import PROBLEM_TYPES, RETRY_AFTER_SECONDS, TOO_MANY_REQUESTS
from user_http.idempotency import IDEMPOTENCY_KEY_HEADER
from user_http.operations import ApiRoute, Operation, Reply
from user_http.rate_limit import MAX_WINDOW_SECONDS, RATE_LIMIT_HEADER, RATE_LIMIT_POLICY_HEADER
from user_http.request_id import REQUEST_ID_HEADER
from user_http.responses import PROBLEM_JSON
from user_http.schemas import (
    MAX_BODY_BYTES,
    MAX_HEAD_BYTES,
    MAX_REQUEST_ID_LENGTH,
    HeadProblem,
    Problem,
)

OPENAPI_VERSION: Final = "3.1.0"
ALWAYS_PROBLEMS: Final = (500,)
HEAD_PROBLEMS: Final = (414, 431)
"""Refusals of the HTTP server itself (a request head over its limit), on every operation: an
``about:blank`` problem without the API's headers (:class:`~user_http.schemas.HeadProblem`)."""
BODY_PROBLEMS: Final = (413, 415)
SECURED_PROBLEMS: Final = (401, 403)
SECURITY_SCHEME: Final = "bearer"
CORS_ORIGIN_HEADER: Final = "Access-Control-Allow-Origin"
EVERY_RESPONSE_HEADERS: Final = (REQUEST_ID_HEADER, CORS_ORIGIN_HEADER)
"""Headers every response documents: the request id always, the CORS origin when it applies."""
RATE_LIMIT_HEADERS: Final = (RATE_LIMIT_HEADER, RATE_LIMIT_POLICY_HEADER)
UNCOUNTED_PROBLEMS: Final = (401, 403, 405)
"""Problems answered before the rate limiter counts the request: without its headers."""
_INT32 = {"type": "integer", "format": "int32"}
_INT64 = {"type": "integer", "format": "int64"}
# Any header or query value: the server refuses a longer request head (431, 414).
_ANY_TEXT = {"type": "string", "maxLength": MAX_HEAD_BYTES}

_Json = dict[str, Any]


def _parameter(name: str, where: str, schema: _Json, description: str, **extra: Any) -> _Json:
    return {"name": name, "in": where, "description": description, "schema": schema, **extra}


PARAMETERS: Final[Mapping[str, _Json]] = {
    "UserId": _parameter(
        "id",
        "path",
        {**_INT64, "minimum": MIN_USER_ID, "maximum": MAX_USER_ID},
        "The user's id. Anything but a decimal integer in range is `400`.",
        required=True,
    ),
    "IfMatch": _parameter(
        "If-Match",
        "header",
        {**_ANY_TEXT, "pattern": ENTITY_TAGS_PATTERN},
        "Change only if the user's `ETag` is listed (strong comparison), or with `*` if the "
        "user exists; otherwise `412`. A header that is not an entity-tag list is `400`.",
    ),
    "IfNoneMatch": _parameter(
        "If-None-Match",
        "header",
        _ANY_TEXT,
        "`304` without a body if the user's `ETag` is listed (weak comparison) or with `*`.",
    ),
    "IdempotencyKey": _parameter(
        IDEMPOTENCY_KEY_HEADER,
        "header",
        {
            "type": "string",
            "minLength": IdempotencyKey.MIN_LENGTH,
            "maxLength": IdempotencyKey.MAX_LENGTH,
            # Printable ASCII; HTTP strips surrounding spaces, so none can start or end a key.
            "pattern": "^[!-~]([ -~]*[!-~])?$",
        },
        f"Makes the creation safe to retry: the first request with a key creates the user; a "
        f"retry with the same key and the same body within "
        f"{IDEMPOTENCY_RETENTION.total_seconds() / 3600:g} hours gets the same status, headers "
        f"and body again and creates nothing; the same key with a different body is `422`. "
        f"Concurrent requests with one key create at most one user: the later ones wait for "
        f"the first and get its response. A failed creation records nothing. Keys are "
        f"{IdempotencyKey.MIN_LENGTH}–{IdempotencyKey.MAX_LENGTH} printable ASCII characters, "
        f"shared by every client of the service; anything else is `400`.",
    ),
    "RequestId": _parameter(
        REQUEST_ID_HEADER,
        "header",
        # Any value is accepted: one that is not a sane id is replaced, never refused.
        _ANY_TEXT,
        "Echoed in the response when it is 1–128 characters of `A-Z a-z 0-9 . _ : + / = -`; "
        "otherwise the service generates one.",
    ),
    "Limit": _parameter(
        "limit",
        "query",
        {
            **_INT32,
            "minimum": PageRequest.MIN_LIMIT,
            "maximum": PageRequest.MAX_LIMIT,
            "default": PageRequest.DEFAULT_LIMIT,
        },
        "The most users in the page.",
    ),
    "Offset": _parameter(
        "offset",
        "query",
        {**_INT32, "minimum": 0, "maximum": PageRequest.MAX_OFFSET, "default": 0},
        "Users to skip (the original service's paging). Not with `cursor`.",
    ),
    "Cursor": _parameter(
        "cursor",
        "query",
        {"type": "string", "maxLength": Cursor.MAX_LENGTH, "pattern": Cursor.PATTERN},
        "The `next_cursor` of the previous page (keyset paging, stable under concurrent "
        "writes). Not with `offset`; a cursor the service did not issue is `400`.",
    ),
    "NameFilter": _parameter(
        "name", "query", _ANY_TEXT, "Only the user with this name, compared as names are."
    ),
    "EmailFilter": _parameter(
        "email", "query", _ANY_TEXT, "Only the user with this email, compared as emails are."
    ),
    "Total": _parameter(
        "total",
        "query",
        {"type": "string", "enum": ["true", "false"], "default": "false"},
        "`true` adds `total`, the number of users matching the filters.",
    ),
}
"""Every parameter an operation can name; ``X-Request-ID`` is added to every operation."""

HEADERS: Final[Mapping[str, _Json]] = {
    "ETag": {
        "description": 'The user\'s version as a strong entity tag, e.g. `"3"`.',
        "schema": {"type": "string", "maxLength": len(f'"{MAX_USER_ID}"'), "pattern": '^"[0-9]+"$'},
    },
    "Location": {
        "description": "The new user's path, `/users/{id}`.",
        "schema": {
            "type": "string",
            "format": "uri-reference",
            "maxLength": len(f"/users/{MAX_USER_ID}"),
        },
    },
    "Link": {
        "description": 'The next page, `<...>; rel="next"`, whenever `next_cursor` is not null.',
        # The request's own query, each byte at worst percent-encoded, and a cursor.
        "schema": {"type": "string", "maxLength": 3 * MAX_HEAD_BYTES, "pattern": 'rel="next"$'},
    },
    REQUEST_ID_HEADER: {
        "description": "The request's id: the client's if sane, else a generated one.",
        "schema": {
            "type": "string",
            "maxLength": MAX_REQUEST_ID_LENGTH,
            "pattern": "^[A-Za-z0-9._:+/=-]+$",
        },
        "required": True,
    },
    "Retry-After": {
        "description": f"Seconds to wait before retrying ({RETRY_AFTER_SECONDS} when the service "
        "is unavailable; until the next token when over a rate limit).",
        "schema": {**_INT32, "minimum": 0, "maximum": MAX_WINDOW_SECONDS},
        "required": True,
    },
    "Allow": {
        "description": "The methods the path supports.",
        "schema": {"type": "string", "maxLength": 100, "pattern": "^[A-Z]+(, [A-Z]+)*$"},
        "required": True,
    },
    "WWW-Authenticate": {
        "description": 'The bearer challenge (RFC 6750), with `error="invalid_token"` or '
        '`error="insufficient_scope"` and the `scope` needed when a token was sent.',
        "schema": {"type": "string", "maxLength": 200, "pattern": "^Bearer "},
        "required": True,
    },
    CORS_ORIGIN_HEADER: {
        "description": "The request's `Origin`, when CORS is configured and allows it (off by "
        "default: browsers then refuse cross-origin reads).",
        "schema": {**_ANY_TEXT, "format": "uri"},
    },
    RATE_LIMIT_HEADER: {
        "description": 'What is left of the client\'s budget, e.g. `"reads";r=599;t=60` '
        "(`r` tokens left, `t` seconds until the bucket is full; IETF RateLimit draft).",
        "schema": {"type": "string", "maxLength": 100, "pattern": '^"[a-z]+";r=[0-9]+;t=[0-9]+$'},
    },
    RATE_LIMIT_POLICY_HEADER: {
        "description": 'The client\'s budget, e.g. `"reads";q=600;w=60` (`q` requests per '
        "window of `w` seconds, a token bucket refilled at that rate; IETF RateLimit draft).",
        "schema": {"type": "string", "maxLength": 100, "pattern": '^"[a-z]+";q=[0-9]+;w=[0-9]+$'},
    },
}
"""Every response header the document names."""

_DESCRIPTION = f"""\
Users with unique names and emails (compared as a person reads them), optimistic concurrency through
`ETag`/`If-Match`, offset and keyset pagination.

- Every error is `{PROBLEM_JSON}` (RFC 9457); `errors` lists every bad field, not only the first.
- Every response carries `{REQUEST_ID_HEADER}`, which the logs also record.
- Request bodies are UTF-8 JSON of at most {MAX_BODY_BYTES} bytes; one without `Content-Type` is
  read as JSON, a declared type that is not JSON is `415`.
- A user read earlier may be sent back: its `readOnly` fields are checked and ignored, except that
  on `PUT` and `PATCH` an `id` other than the path's is `400` and a `version` other than the
  stored one is `412`.
- Every successful `PUT` or `PATCH` is a new version, even one that changes no value.
"""


def openapi_document(
    routes: Iterable[BaseRoute],
    *,
    title: str,
    version: str,
    secured: bool = False,
    rate_limited: bool = False,
) -> _Json:
    """The OpenAPI 3.1 document of every :class:`ApiRoute` among ``routes``.

    ``secured``: authentication is on, so the operations that name a scope need a bearer token
    with it (declared as the ``bearer`` security scheme, with their ``401`` and ``403``).
    ``rate_limited``: those operations count against a budget (their ``429``, and the
    ``RateLimit`` headers on their responses).
    """
    api_routes = [route for route in routes if isinstance(route, ApiRoute)]
    structs = _structs(api_routes)
    refs, schemas = msgspec.json.schema_components(
        structs, ref_template="#/components/schemas/{name}"
    )
    schema_of = dict(zip(structs, refs, strict=True))
    paths: dict[str, _Json] = {}
    for route in api_routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(
            route.operation, schema_of, secured, rate_limited
        )
    problem_ref = schema_of[Problem]
    head_problems = {
        f"Problem{status}": {
            "description": f"{HTTPStatus(status).phrase}: refused by the HTTP server, before the "
            f"API, which closes the connection.",
            "content": {PROBLEM_JSON: {"schema": schema_of[HeadProblem]}},
        }
        for status in HEAD_PROBLEMS
    }
    tags = dict.fromkeys(route.operation.tag for route in api_routes)
    security_schemes = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT signed by a key of the configured JWKS, with the scopes each "
            "operation names (`users:read`, `users:write`). Checked as RFC8725 (JWT Best "
            "Current Practices) asks: asymmetric algorithms only (never `none` or an HMAC), "
            "the key chosen by `kid` and `alg` together, `exp` and `aud` required.",
        }
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": _DESCRIPTION},
        "tags": [{"name": tag} for tag in tags],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": dict(PARAMETERS),
            "headers": dict(HEADERS),
            "responses": {
                f"Problem{kind.status}": {
                    "description": kind.title,
                    "headers": _headers(
                        (
                            *kind.headers,
                            *(
                                RATE_LIMIT_HEADERS
                                if rate_limited
                                and kind.status not in UNCOUNTED_PROBLEMS
                                and kind is not TOO_MANY_REQUESTS
                                else ()
                            ),
                        )
                    ),
                    "content": {
                        PROBLEM_JSON: {
                            "schema": {
                                "allOf": [problem_ref],
                                "properties": {
                                    "status": {"const": kind.status},
                                    "type": {"const": kind.uri},
                                },
                            }
                        }
                    },
                }
                for kind in PROBLEM_TYPES
                if rate_limited or kind is not TOO_MANY_REQUESTS
            }
            | head_problems,
            **({"securitySchemes": security_schemes} if secured else {}),
        },
    }


def problem_statuses(
    operation: Operation, secured: bool = False, rate_limited: bool = False
) -> tuple[int, ...]:
    """Every status the operation answers with a problem body, in ascending order."""
    implied: tuple[int, ...] = ALWAYS_PROBLEMS + HEAD_PROBLEMS
    implied += BODY_PROBLEMS if operation.body is not None else ()
    if secured and operation.scope is not None:
        implied += SECURED_PROBLEMS
    if rate_limited and operation.scope is not None:
        implied += (TOO_MANY_REQUESTS.status,)
    return tuple(sorted({*operation.problems, *implied}))


def _structs(routes: Iterable[ApiRoute]) -> list[type[Struct]]:
    found: dict[type[Struct], None] = {Problem: None, HeadProblem: None}
    for route in routes:
        operation = route.operation
        bodies = [operation.body, *(reply.body for reply in operation.replies.values())]
        found.update((body, None) for body in bodies if isinstance(body, type))
    return list(found)


def _operation(
    operation: Operation,
    schema_of: Mapping[type[Struct], _Json],
    secured: bool,
    rate_limited: bool,
) -> _Json:
    counted = rate_limited and operation.scope is not None
    responses: _Json = {
        str(status): _reply(reply, schema_of, counted)
        for status, reply in operation.replies.items()
    }
    for status in problem_statuses(operation, secured, rate_limited):
        responses[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    document: _Json = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": operation.description,
        "tags": [operation.tag],
        "parameters": [
            {"$ref": f"#/components/parameters/{name}"}
            for name in (*operation.parameters, "RequestId")
        ],
    }
    if secured and operation.scope is not None:
        document["security"] = [{SECURITY_SCHEME: [operation.scope]}]
    if operation.body is not None:
        schema = _schema(operation.body, schema_of)
        document["requestBody"] = {
            "required": True,
            "content": {
                media_type: {"schema": schema} for media_type in operation.body_media_types
            },
        }
    document["responses"] = responses
    return document


def _reply(reply: Reply, schema_of: Mapping[type[Struct], _Json], counted: bool) -> _Json:
    document: _Json = {
        "description": reply.description,
        "headers": _headers((*reply.headers, *(RATE_LIMIT_HEADERS if counted else ()))),
    }
    if reply.body is not None:
        document["content"] = {reply.media_type: {"schema": _schema(reply.body, schema_of)}}
    if reply.links:
        document["links"] = {
            name: {"operationId": link.operation_id, "parameters": dict(link.parameters)}
            for name, link in reply.links.items()
        }
    return document


def _schema(
    body: type[Struct] | Mapping[str, Any], schema_of: Mapping[type[Struct], _Json]
) -> _Json:
    return schema_of[body] if isinstance(body, type) else dict(body)


def _headers(names: Iterable[str]) -> _Json:
    """References to ``names`` and to :data:`EVERY_RESPONSE_HEADERS`."""
    return {
        name: {"$ref": f"#/components/headers/{name}"} for name in (*names, *EVERY_RESPONSE_HEADERS)
    }
