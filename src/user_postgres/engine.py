"""How the service connects: :class:`EngineOptions`, :func:`create_engine` (SQLAlchemy's, for
migrations) and :func:`asyncpg_connect_arguments` (for the repository's
:class:`~user_postgres.pool.ConnectionPool`).

The defaults suit one service process talking to PostgreSQL directly or through PgBouncer, with
every statement an index lookup: fail fast (a request that cannot get a connection or an answer
within a few seconds becomes ``StorageUnavailable``, an HTTP 503 with ``Retry-After``) rather
than queue up behind a database that is down.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from ssl import SSLContext
from typing import Any

from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_SCHEMES = {"postgres", "postgresql", "postgresql+asyncpg"}
_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineOptions:
    """How the connections behave; every field has a production default.

    Size the pool so that replicas × (``pool_size`` + ``max_overflow``) stays below the server's
    ``max_connections`` (or the pooler's ``default_pool_size``), leaving room for migrations and
    administration.
    """

    pool_size: int = 10
    """Connections the pool may keep open: the repository's pool opens each when a caller needs
    it and closes it after :data:`~user_postgres.pool.IDLE_SECONDS` unused."""
    max_overflow: int = 10
    """Connections beyond ``pool_size``: the repository's pool treats them alike (at most the
    sum is open); SQLAlchemy's engine closes them as soon as they are returned."""
    pool_timeout: float = 5.0
    """Seconds a caller waits for a free connection before the pool gives up."""
    pool_recycle: float = 1800.0
    """The engine's only: seconds after which one of its connections is replaced."""
    pool_pre_ping: bool = False
    """The engine's only: test each connection on checkout (a round trip)."""
    connect_timeout: float = 5.0
    """Seconds to open one connection, TLS included."""
    statement_timeout_ms: int | None = 5_000
    """Server-side limit of one statement; ``None`` keeps the server's setting.

    The server can only enforce it while it runs: :attr:`command_timeout` bounds the rest.

    Sent as a start-up parameter, which PgBouncer refuses unless told to ignore it: through
    PgBouncer, set ``ALTER ROLE … SET statement_timeout`` on the server and pass ``None``.
    """
    command_timeout: float | None = 6.0
    """Seconds the service waits for the answer to one statement (``BEGIN`` and ``COMMIT``
    included) before it gives the connection up and raises ``TimeoutError``; ``None``: for ever.

    What the server cannot bound itself: a server frozen (stopped, swapping, its disk hung),
    unreachable without a reset, or a pooler queueing the statement. Keep it above
    :attr:`statement_timeout_ms`, so that the server cancels first while it can and the
    connection stays usable. A statement given up on may still run when the server resumes: the
    service answers ``503`` and the write is in doubt (``Idempotency-Key`` settles it)."""
    application_name: str = "user-service"
    """Shown in ``pg_stat_activity`` and the server log."""
    ssl: SSLContext | str | bool | None = None
    """Passed to asyncpg's ``ssl``: an ``SSLContext``, or a mode such as ``"verify-full"``.

    ``None`` keeps asyncpg's default (``prefer``) or the URL's ``ssl``/``sslmode`` parameter.
    """
    pgbouncer_transaction_mode: bool = False
    """Connecting through PgBouncer in transaction pooling mode: turn prepared-statement caches
    off and name statements uniquely, as asyncpg's FAQ requires (PgBouncer ≥ 1.21 with
    ``max_prepared_statements`` set does not need it)."""

    def __post_init__(self) -> None:
        if self.pool_size < 1 or self.max_overflow < 0:
            raise ValueError("pool_size must be at least 1 and max_overflow at least 0")
        if min(self.pool_timeout, self.pool_recycle, self.connect_timeout) <= 0:
            raise ValueError("timeouts must be positive")
        if self.statement_timeout_ms is not None and self.statement_timeout_ms <= 0:
            raise ValueError("statement_timeout_ms must be positive (or None)")
        if self.command_timeout is not None and (
            self.command_timeout <= 0
            or (
                self.statement_timeout_ms is not None
                and self.command_timeout * 1000 <= self.statement_timeout_ms
            )
        ):
            raise ValueError(
                "command_timeout must be positive and longer than statement_timeout_ms (or None)"
            )


def asyncpg_url(url: str | URL) -> URL:
    """``url`` for SQLAlchemy's asyncpg driver.

    Accepts ``postgres://``, ``postgresql://`` and ``postgresql+asyncpg://``; a Unix socket is
    given as ``?host=/run/postgresql``; libpq's ``sslmode`` becomes asyncpg's ``ssl``.
    """
    parsed = make_url(url)
    if parsed.drivername not in _SCHEMES:
        raise ValueError(f"not a PostgreSQL URL for asyncpg: {parsed.drivername}://…")
    parsed = parsed.set(drivername="postgresql+asyncpg")
    if "sslmode" in parsed.query:
        mode = parsed.query["sslmode"]
        parsed = parsed.difference_update_query(["sslmode"]).update_query_dict({"ssl": mode})
    return parsed


def create_engine(url: str | URL, options: EngineOptions | None = None) -> AsyncEngine:
    """A SQLAlchemy engine for ``url`` (see :func:`asyncpg_url`), for migrations.

    The repository's statements run on a :class:`~user_postgres.pool.ConnectionPool` instead;
    dispose the engine when done.
    """
    options = options or EngineOptions()
    connect_args = _driver_arguments(options)
    if options.pgbouncer_transaction_mode:
        connect_args |= {
            "prepared_statement_cache_size": 0,  # SQLAlchemy's cache in front of asyncpg's
            "prepared_statement_name_func": _unique_statement_name,
        }
    return create_async_engine(
        asyncpg_url(url),
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_recycle=options.pool_recycle,
        pool_pre_ping=options.pool_pre_ping,
        connect_args=connect_args,
    )


def asyncpg_connect_arguments(url: str | URL, options: EngineOptions) -> dict[str, Any]:
    """The keyword arguments of ``asyncpg.connect`` (or ``create_pool``) for ``url``.

    The address, user and database as SQLAlchemy's asyncpg dialect reads them from the URL (its
    ``ssl`` query parameter included), and the driver settings of ``options``, as
    :func:`create_engine` gives them.
    """
    _, parameters = _DIALECT.create_connect_args(asyncpg_url(url))  # type: ignore[no-untyped-call]
    return {**parameters, **_driver_arguments(options)}


def _driver_arguments(options: EngineOptions) -> dict[str, Any]:
    server_settings = {"application_name": options.application_name}
    if options.statement_timeout_ms is not None:
        server_settings["statement_timeout"] = str(options.statement_timeout_ms)
    arguments: dict[str, Any] = {
        "timeout": options.connect_timeout,
        "command_timeout": options.command_timeout,
        "server_settings": server_settings,
    }
    if options.ssl is not None:
        arguments["ssl"] = options.ssl
    if options.pgbouncer_transaction_mode:
        arguments["statement_cache_size"] = 0  # asyncpg's own cache: unnamed statements only
    return arguments


def _unique_statement_name() -> str:
    # A server connection behind PgBouncer serves many clients, so names like asyncpg's
    # per-connection counter would clash there.
    return f"__asyncpg_{uuid.uuid4().hex}__"
