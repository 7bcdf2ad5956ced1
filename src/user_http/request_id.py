"""``X-Request-ID`` on every response: echoed when the client sent a sane one, else generated."""

from __future__ import annotations

import os
import re
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER: Final = "X-Request-ID"
SCOPE_KEY: Final = "user_http.request_id"
"""Where the middleware keeps the request id in the ASGI scope, for handlers and logs."""

_HEADER_KEY = REQUEST_ID_HEADER.lower().encode("latin-1")
_SANE = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
_VERSION_AND_VARIANT_BITS = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4_RFC_4122 = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random UUID (version 4) as 32 hex digits.

    Built from ``os.urandom`` directly: ``uuid.uuid4().hex`` costs twice as much, and most
    requests need one.
    """
    random = int.from_bytes(os.urandom(16), "big")
    return f"{random & _VERSION_AND_VARIANT_BITS | _VERSION_4_RFC_4122:032x}"


def request_id_of(scope: Scope) -> str:
    """The id the middleware gave this request; one is given now if the middleware never ran."""
    request_id: str | None = scope.get(SCOPE_KEY)
    if request_id is None:
        request_id = scope[SCOPE_KEY] = new_request_id()
    return request_id


class RequestIdMiddleware:
    """Pure ASGI middleware that names each HTTP request and adds the name to its response.

    The id is kept in the scope under :data:`SCOPE_KEY`. A response that bypasses this middleware
    (the catch-all 500, sent by Starlette's outermost middleware) must add the header itself.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Name the request, then add ``X-Request-ID`` to the start of its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_id = _incoming_id(scope["headers"])
        if raw_id is None:
            request_id = new_request_id()
            raw_id = request_id.encode("ascii")
        else:
            request_id = raw_id.decode("ascii")
        scope[SCOPE_KEY] = request_id
        header = (_HEADER_KEY, raw_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A new list: responses may share theirs (pre-built ones do).
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


def _incoming_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for key, value in headers:
        if key == _HEADER_KEY:
            return value if _SANE.fullmatch(value) else None
    return None
