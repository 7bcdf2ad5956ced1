"""The reference: ``GET /users/{id}`` and ``POST /users`` as a bare Starlette application serves
them.

What someone would write in an afternoon with the same tools: Starlette's routing and
``Response``, an asyncpg pool, msgspec, and the service's own statements (compiled from
:mod:`user_postgres.statements` to the SQL the service sends). No middleware, no validation
beyond decoding and what the database enforces, no metrics, no logs. The service's cost above
it is the price of its layers and of everything it does that the reference does not::

    USER_SERVICE_DATABASE_URL=postgresql://...?sslmode=disable \\
        .venv/bin/uvicorn --factory benchmarks.reference:create_app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg  # type: ignore[import-untyped]
import msgspec
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from user_postgres import statements as sql

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]
_INSERT_COLUMNS = ("name", "name_key", "email", "email_key", "other", "created_at")
SELECT_BY_ID = str(sql.SELECT_BY_ID.compile(dialect=_DIALECT))
INSERT = str(sql.INSERT.compile(dialect=_DIALECT, column_keys=list(_INSERT_COLUMNS)))
POOL_SIZE = int(os.environ.get("REFERENCE_POOL_SIZE", "20"))


class _Draft(msgspec.Struct):
    name: str
    email: str | None = None
    other: str | None = None


_decode = msgspec.json.Decoder(_Draft).decode
_encode = msgspec.json.encode


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _user(row: asyncpg.Record, status: int) -> Response:
    return Response(
        _encode(dict(row.items())),
        status,
        {"etag": f'"{row["version"]}"'},
        media_type="application/json",
    )


def _problem(status: int) -> Response:
    return Response(_encode({"status": status}), status, media_type="application/problem+json")


def create_app() -> Starlette:
    """The application; its pool opens at start-up and closes at shutdown."""
    url = os.environ["USER_SERVICE_DATABASE_URL"]
    pool: asyncpg.Pool

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        async with asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE) as pool:
            yield

    async def get_user(request: Request) -> Response:
        row = await pool.fetchrow(SELECT_BY_ID, request.path_params["user_id"])
        return _problem(404) if row is None else _user(row, 200)

    async def create_user(request: Request) -> Response:
        try:
            draft = _decode(await request.body())
        except msgspec.ValidationError:
            return _problem(400)
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
            return _problem(409)
        return _user(row, 201)

    async def ready(_: Request) -> Response:
        return Response(b'{"status":"ready"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/users/{user_id:int}", get_user, methods=["GET"]),
            Route("/users", create_user, methods=["POST"]),
            Route("/readyz", ready, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
