"""What the route table says about each operation, so the OpenAPI document is built, not written.

Each :class:`ApiRoute` is a Starlette ``Route`` for one method that carries its
:class:`Operation`; :mod:`user_http.openapi` reads nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from user_http.responses import JSON

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: values of this response that can feed another operation's parameters."""

    operation_id: str
    parameters: Mapping[str, str]
    """Parameter name to runtime expression, e.g. ``{"id": "$response.body#/id"}``."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful response of an operation."""

    description: str
    body: type[Struct] | Mapping[str, Any] | None = None
    """A Struct, or a JSON Schema for a body that is not one."""
    media_type: str = JSON
    headers: tuple[str, ...] = ()
    """Names of response headers (``X-Request-ID`` is added to every response)."""
    links: Mapping[str, Link] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation: its replies, the problems it may answer, what it takes."""

    operation_id: str
    summary: str
    description: str
    tag: str
    replies: Mapping[int, Reply]
    problems: tuple[int, ...] = ()
    """Statuses answered with a problem; 500 is added to all, 413 and 415 to those with a body."""
    parameters: tuple[str, ...] = ()
    """Names of parameters in the document's ``components`` (``X-Request-ID`` is added to all)."""
    body: type[Struct] | None = None
    body_media_types: tuple[str, ...] = (JSON,)
    scope: str | None = None
    """The token scope the operation needs when authentication is on; ``None``: always open."""


class ApiRoute(Route):
    """A route for one method, carrying the operation it serves.

    The endpoint's errors go straight to the app's exception handlers: Starlette's own adapter
    (``request_response``) would look them up once more for every request, around every route.
    """

    def __init__(self, path: str, method: str, endpoint: Endpoint, operation: Operation) -> None:
        super().__init__(path, endpoint, methods=[method], name=operation.operation_id)
        self.app = _serving(endpoint)
        self.method = method
        self.operation = operation


def _serving(endpoint: Endpoint) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app
