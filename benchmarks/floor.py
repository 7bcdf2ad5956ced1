"""The floor: ``GET /users/{id}`` and ``POST /users`` with no framework, for overhead accounting.

A raw ASGI application on a bare asyncpg pool, running the service's own statements (compiled
from :mod:`user_postgres.statements` to the SQL SQLAlchemy sends), with the least work that
still answers correctly: no validation beyond what the database enforces, no metrics, no logs.
Whatever the service costs above it is the price of its layers::

    USER_SERVICE_DATABASE_URL=postgresql://... \\
        .venv/bin/uvicorn --factory benchmarks.floor:create_app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import msgspec
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from user_postgres import statements as sql

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
SELECT_BY_ID = str(sql.SELECT_BY_ID.compile(dialect=_DIALECT))
INSERT = str(
    sql.INSERT.compile(
        dialect=_DIALECT,
        column_keys=["name", "name_key", "email", "email_key", "other", "created_at"],
    )
)
POOL_SIZE = int(os.environ.get("FLOOR_POOL_SIZE", "20"))

_encode = msgspec.json.encode


class _Draft(msgspec.Struct):
    name: str
    email: str | None = None
    other: str | None = None


_decode = msgspec.json.Decoder(_Draft).decode


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _resource(row: asyncpg.Record) -> bytes:
    user_id, name, email, other, created_at, updated_at, version = row
    return _encode(
        {
            "id": user_id,
            "name": name,
            "email": email,
            "other": other,
            "created_at": created_at,
            "updated_at": updated_at,
            "version": version,
        }
    )


def create_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI application; its pool opens at start-up and closes at shutdown."""
    url = os.environ["USER_SERVICE_DATABASE_URL"]
    state: dict[str, asyncpg.Pool] = {}

    async def respond(send: Send, status: int, body: bytes, version: int | None = None) -> None:
        headers = [(b"content-type", b"application/json")]
        if version is not None:
            headers.append((b"etag", f'"{version}"'.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0912 (a router by hand: the floor has no framework)
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["pool"] = await asyncpg.create_pool(
                        url, min_size=POOL_SIZE, max_size=POOL_SIZE
                    )
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await state["pool"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path, method = scope["path"], scope["method"]
        pool = state["pool"]
        if method == "GET" and path.startswith("/users/"):
            row = await pool.fetchrow(SELECT_BY_ID, int(path[7:]))
            if row is None:
                await respond(send, 404, b'{"status":404}')
            else:
                await respond(send, 200, _resource(row), row["version"])
        elif method == "POST" and path == "/users":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            draft = _decode(body)
            try:
                row = await pool.fetchrow(
                    INSERT,
                    draft.name,
                    _key(draft.name),
                    draft.email,
                    None if draft.email is None else _key(draft.email),
                    draft.other,
                    datetime.now(UTC),
                )
            except asyncpg.UniqueViolationError:
                await respond(send, 409, b'{"status":409}')
                return
            await respond(send, 201, _resource(row), row["version"])
        elif path == "/readyz":
            await respond(send, 200, b'{"status":"ready"}')
        else:
            await respond(send, 404, b'{"status":404}')

    return app
