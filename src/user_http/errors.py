"""Every error the API answers, as one table of RFC 9457 problem types, and their handlers.

Handlers are registered on base classes (Starlette looks them up along the exception's MRO), and
an error with no row in the table is not ours: it reaches the logged catch-all and becomes a 500
that shows nothing of its cause. A client that hangs up before its body is read is no error of
the service's: it is answered :data:`CLIENT_CLOSED_REQUEST` (which it never sees), so metrics
count it apart from the 5xx and the access log has its one line.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import quote

from msgspec import UNSET
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from user_core import (
    FieldTaken,
    IdempotencyKeyReused,
    InvalidInput,
    StorageUnavailable,
    UserNotFound,
    UserServiceError,
    VersionMismatch,
)
from user_http.request_id import request_id_of
from user_http.responses import PROBLEM_JSON, encode
from user_http.schemas import (
    MAX_HEAD_BYTES,
    MAX_PROBLEM_ERRORS,
    MAX_PROBLEM_TEXT,
    FieldProblem,
    Problem,
)

RETRY_AFTER_SECONDS: Final = 1
"""What ``Retry-After`` tells a client to wait when the service is unavailable."""

CLIENT_CLOSED_REQUEST: Final = 499
"""The status recorded for a request whose client left before its body was read (nginx's)."""

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProblemType:
    """One kind of error: its status, its ``type`` URI's slug and its fixed title."""

    status: int
    slug: str
    title: str
    headers: tuple[str, ...] = ()
    """Response headers that this problem carries besides ``X-Request-ID``."""

    @property
    def uri(self) -> str:
        """The problem's ``type``: ``/problems/<slug>``, or ``about:blank`` with no slug."""
        return f"/problems/{self.slug}" if self.slug else "about:blank"


VALIDATION: Final = ProblemType(400, "validation", "Invalid request")
UNAUTHORIZED: Final = ProblemType(401, "unauthorized", "Unauthorized", ("WWW-Authenticate",))
FORBIDDEN: Final = ProblemType(403, "forbidden", "Forbidden", ("WWW-Authenticate",))
NOT_FOUND: Final = ProblemType(404, "not-found", "Not found")
METHOD_NOT_ALLOWED: Final = ProblemType(405, "method-not-allowed", "Method not allowed", ("Allow",))
FIELD_TAKEN: Final = ProblemType(409, "field-taken", "Value already taken")
PRECONDITION_FAILED: Final = ProblemType(412, "precondition-failed", "Precondition failed")
CONTENT_TOO_LARGE: Final = ProblemType(413, "content-too-large", "Content too large")
UNSUPPORTED_MEDIA_TYPE: Final = ProblemType(415, "unsupported-media-type", "Unsupported media type")
IDEMPOTENCY_KEY_REUSED: Final = ProblemType(
    422, "idempotency-key-reused", "Idempotency key reused with a different request"
)
TOO_MANY_REQUESTS: Final = ProblemType(
    429,
    "too-many-requests",
    "Too many requests",
    ("Retry-After", "RateLimit", "RateLimit-Policy"),
)
INTERNAL: Final = ProblemType(500, "internal", "Internal server error")
UNAVAILABLE: Final = ProblemType(503, "unavailable", "Service unavailable", ("Retry-After",))


class HttpProblem(Exception):
    """An error that the HTTP adapter finds itself; ``str(error)`` is the problem's detail.

    ``headers`` are the response headers this very error carries (a challenge, a wait).
    """

    headers: Mapping[str, str] | None = None


class UnsupportedMediaType(HttpProblem):
    """The request body is not of a media type the operation accepts."""


class ContentTooLarge(HttpProblem):
    """The request body is over the limit."""


class PreconditionFailed(HttpProblem):
    """No entity tag of ``If-Match`` is the user's current one."""


class Unauthenticated(HttpProblem):
    """No bearer token, or one that is not valid; ``challenge`` is the ``WWW-Authenticate``."""

    def __init__(self, detail: str, challenge: str) -> None:
        super().__init__(detail)
        self.challenge = challenge
        self.headers = {"WWW-Authenticate": challenge}


class Forbidden(Unauthenticated):
    """A valid token without the scope the operation needs."""


class TooManyRequests(HttpProblem):
    """The client is over its budget; ``headers`` say how long to wait and what is left."""

    def __init__(self, detail: str, *, retry_after: int, headers: Mapping[str, str]) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after), **headers}


class ServiceNotReady(HttpProblem):
    """The service cannot take traffic: a dependency is not ready, or shutdown has begun."""


PROBLEMS: Final[Mapping[type[Exception], ProblemType]] = {
    InvalidInput: VALIDATION,
    UserNotFound: NOT_FOUND,
    FieldTaken: FIELD_TAKEN,
    VersionMismatch: PRECONDITION_FAILED,
    StorageUnavailable: UNAVAILABLE,
    PreconditionFailed: PRECONDITION_FAILED,
    Forbidden: FORBIDDEN,
    Unauthenticated: UNAUTHORIZED,
    ContentTooLarge: CONTENT_TOO_LARGE,
    UnsupportedMediaType: UNSUPPORTED_MEDIA_TYPE,
    IdempotencyKeyReused: IDEMPOTENCY_KEY_REUSED,
    TooManyRequests: TOO_MANY_REQUESTS,
    ServiceNotReady: UNAVAILABLE,
}
"""The table: which problem each error class (and its subclasses) becomes."""

ROUTING_PROBLEMS: Final[Mapping[int, ProblemType]] = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}
"""The problems of Starlette's router, by the status of the ``HTTPException`` it raises."""

PROBLEM_TYPES: Final = (
    VALIDATION,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    FIELD_TAKEN,
    PRECONDITION_FAILED,
    CONTENT_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    IDEMPOTENCY_KEY_REUSED,
    TOO_MANY_REQUESTS,
    INTERNAL,
    UNAVAILABLE,
)
"""Every problem type the API answers, for its documentation."""

_STORAGE_DETAIL = "The storage cannot answer now; retry later."
_INTERNAL_DETAIL = "An unexpected error occurred; the log has the details under the request id."


def problem_response(
    request: Request,
    kind: ProblemType,
    detail: str,
    errors: Iterable[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An ``application/problem+json`` response of this kind about this request."""
    scope = request.scope
    raw_path: bytes | None = scope.get("raw_path")
    instance = quote(scope["path"]) if raw_path is None else raw_path.decode("latin-1")
    problem = Problem(
        type=kind.uri,
        title=kind.title,
        status=kind.status,
        detail=_cut(detail),
        instance=instance[:MAX_HEAD_BYTES],
        request_id=request_id_of(scope),
        errors=[
            FieldProblem(_cut(error.field), _cut(error.message))
            for error in itertools.islice(errors, MAX_PROBLEM_ERRORS)
        ]
        or UNSET,
    )
    return Response(encode(problem), kind.status, headers, PROBLEM_JSON)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_PROBLEM_TEXT else text[: MAX_PROBLEM_TEXT - 1] + "…"


def exception_handlers(allowed_methods: Mapping[str, str]) -> dict[Any, ExceptionHandler]:
    """The handlers to give Starlette; ``allowed_methods`` maps a route's path to its ``Allow``.

    Any other error is for :func:`on_unexpected`, at the edge.
    """

    async def on_routing_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = ROUTING_PROBLEMS.get(exc.status_code)
        if kind is None:
            return problem_response(request, _generic(exc.status_code), exc.detail, (), exc.headers)
        path = request.scope["path"]
        if kind is not METHOD_NOT_ALLOWED:
            return problem_response(request, kind, f"Nothing is served at {path}.")
        route = request.scope.get("route")
        allow = allowed_methods.get(getattr(route, "path", ""), "")
        detail = f"{request.method} is not allowed on {path}; use {allow}."
        return problem_response(request, kind, detail, (), {"Allow": allow})

    return {
        UserServiceError: _on_error,
        HttpProblem: _on_error,
        HTTPException: on_routing_error,
        ClientDisconnect: _on_client_disconnect,
    }


async def _on_client_disconnect(request: Request, _exc: Exception) -> Response:
    _logger.debug(
        "client left before its request body was read: %s %s",
        request.method,
        request.scope["path"],
    )
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _on_error(request: Request, exc: Exception) -> Response:
    kind = _problem_type(exc)
    if kind is None:
        raise exc  # not in the table: a bug, for the catch-all
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if kind is UNAVAILABLE else None
    if isinstance(exc, HttpProblem) and exc.headers is not None:
        headers = dict(exc.headers)
    detail = _STORAGE_DETAIL if isinstance(exc, StorageUnavailable) else str(exc)
    return problem_response(request, kind, detail, _field_problems(exc), headers)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    """The answer to an error no handler took: logged with its stack, a ``500`` showing nothing."""
    request_id = request_id_of(request.scope)
    _logger.error(
        "unexpected %s while serving %s %s (request_id=%s)",
        type(exc).__name__,
        request.method,
        request.scope["path"],
        request_id,
        exc_info=exc,
        extra={"request_id": request_id},
    )
    return problem_response(request, INTERNAL, _INTERNAL_DETAIL)


def _problem_type(exc: Exception) -> ProblemType | None:
    for cls in type(exc).__mro__:
        kind = PROBLEMS.get(cls)
        if kind is not None:
            return kind
    return None


def _field_problems(exc: Exception) -> list[FieldProblem]:
    if isinstance(exc, InvalidInput):
        return [FieldProblem(error.field, error.message) for error in exc.errors]
    if isinstance(exc, FieldTaken):
        return [FieldProblem(exc.field, "is already taken")]
    return []


def _generic(status: int) -> ProblemType:
    return ProblemType(status, "", HTTPStatus(status).phrase)
