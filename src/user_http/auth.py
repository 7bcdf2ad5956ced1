"""Optional bearer-token authentication: who may call which operation.

Off unless :func:`~user_http.create_app` gets a :class:`TokenVerifier`. Then every operation
that names a scope (the ``/users`` operations: ``users:read`` to read, ``users:write`` to
change) needs ``Authorization: Bearer <token>`` whose token the verifier accepts and whose scopes
include the operation's: else ``401`` (no token, or a token that is not valid) or ``403`` (a valid
token without the scope), both with ``WWW-Authenticate`` (RFC 6750). Probes, metrics and the
documentation name no scope and stay open.

Where the keys come from (a JWKS file, a URL) is the verifier's business, not this module's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from user_http.errors import Forbidden, Unauthenticated
from user_http.operations import ApiRoute

READ_SCOPE: Final = "users:read"
"""Needed to read users (``GET``)."""
WRITE_SCOPE: Final = "users:write"
"""Needed to create, change or delete users."""
SCOPE_KEY: Final = "user_http.principal"
"""Where the authenticated :class:`Principal` is kept in the ASGI scope."""

_AUTHORIZATION = b"authorization"
_REALM = 'Bearer realm="user-service"'


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for, and what it allows."""

    subject: str | None
    scopes: frozenset[str]


class InvalidToken(Exception):
    """The token is not valid: malformed, badly signed, expired, or not meant for this service.

    ``str(error)`` says why, briefly; it is shown to the client.
    """


class TokenVerifier(Protocol):
    """Checks bearer tokens; implemented by the composition root (e.g. JWTs against a JWKS)."""

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; raises :class:`InvalidToken` for any other."""
        ...


def protect(routes: Iterable[ApiRoute], verifier: TokenVerifier) -> None:
    """Guard every route whose operation names a scope with ``verifier``."""
    for route in routes:
        if route.operation.scope is not None:
            route.app = _Guard(route.app, verifier, route.operation.scope)


class _Guard:
    """Pure ASGI: lets a request through to the route only with a valid token and the scope.

    Runs after routing (so a wrong method is still ``405``, and metrics see the route), and
    raises the problems, which the app's exception handlers answer.
    """

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, scope: str) -> None:
        self.app = app
        self.verifier = verifier
        self.scope = scope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _bearer_token(scope["headers"])
        if token is None:
            raise Unauthenticated("This operation needs an Authorization: Bearer token.", _REALM)
        try:
            principal = self.verifier.verify(token)
        except InvalidToken as error:
            raise Unauthenticated(
                f"The bearer token is not valid: {error}.",
                f'{_REALM}, error="invalid_token"',
            ) from None
        if self.scope not in principal.scopes:
            raise Forbidden(
                f"The token lacks the scope {self.scope}.",
                f'{_REALM}, error="insufficient_scope", scope="{self.scope}"',
            )
        scope[SCOPE_KEY] = principal
        await self.app(scope, receive, send)


def _bearer_token(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    values = [value for key, value in headers if key == _AUTHORIZATION]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
