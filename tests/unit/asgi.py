"""A ``POST /users`` straight into an ASGI app, for what no HTTP client can send: a body that never
ends, a client that leaves half-way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message


def post_users(
    app: ASGIApp, receive: Callable[[], Awaitable[Message]], headers: list[tuple[bytes, bytes]]
) -> list[Message]:
    """Run ``POST /users`` with ``headers``, its body from ``receive``; what the app sent."""
    sent: list[Message] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/users",
        "raw_path": b"/users",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8080),
    }

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    asyncio.run(run())
    return sent
