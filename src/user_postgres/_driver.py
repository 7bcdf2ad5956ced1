"""Running the repository's statements on the asyncpg connection itself.

SQLAlchemy builds and owns every statement (:mod:`user_postgres._statements`) and its pool owns
every connection, but its execution layer (the DBAPI adaptation, cursor and result objects, the
execution context) costs more CPU than the query round trip on the service's hot path. So each
statement is compiled once per set of parameter names to the SQL SQLAlchemy would send, and run
with asyncpg's own ``fetch``, which keeps it prepared per connection (or, through PgBouncer in
transaction mode, unnamed, as the engine's connect arguments say).

Only the checked-out connection is borrowed: SQLAlchemy's pool still hands it out, takes it back,
resets it and invalidates it (:func:`checkout`, :func:`checkin`, :func:`invalidate`). Statements
run in asyncpg's own autocommit mode (no transaction is begun), as the repository's
single-statement writes want.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from user_postgres._statements import OPERATION_OPTION


class CompiledStatement:
    """One statement as SQL for asyncpg, with the order its parameters go in."""

    __slots__ = ("_defaults", "_names", "operation", "sql")

    def __init__(self, statement: Executable, dialect: Dialect, keys: Sequence[str]) -> None:
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"not a SQL expression: {statement!r}")
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
        self.sql = str(compiled)
        self.operation: str = statement.get_execution_options().get(OPERATION_OPTION, "other")
        self._names = tuple(compiled.positiontup or ())
        # Literal values SQLAlchemy bound itself, such as the 1 of "version + 1".
        self._defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name not in keys
        }
        if compiled._bind_processors:
            raise TypeError(f"parameters that need conversion are not supported: {self.sql}")

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``parameters``, by name."""
        defaults = self._defaults
        return [parameters[name] if name in parameters else defaults[name] for name in self._names]


class StatementCache:
    """Compiled statements for one dialect, by statement and parameter names."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[tuple[int, frozenset[str]], CompiledStatement] = {}
        # Holds the statements so that their ids stay theirs.
        self._statements: list[Executable] = []

    def get(self, statement: Executable, parameters: Mapping[str, Any]) -> CompiledStatement:
        """``statement`` compiled for these parameter names (compiled on first use)."""
        key = (id(statement), frozenset(parameters))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledStatement(statement, self._dialect, sorted(parameters))
            self._compiled[key] = compiled
            self._statements.append(statement)
        return compiled


async def checkout(engine: AsyncEngine) -> PoolProxiedConnection:
    """A connection from the pool of ``engine``, as ``engine.connect()`` would check it out.

    The driver's errors while connecting are wrapped as ``engine.connect()`` wraps them (a
    ``DBAPIError``, ``connection_invalidated`` when the database cannot be reached), so that
    callers see the same exceptions either way.
    """
    dialect = engine.dialect
    try:
        # The pool is read every time: disposing the engine replaces it.
        return await greenlet_spawn(engine.sync_engine.pool.connect)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            None,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(error, None, None),
        ) from error


async def checkin(pooled: PoolProxiedConnection) -> None:
    """Return ``pooled`` to its pool (which resets it, or discards it once invalidated).

    This never waits: no transaction is open on the connection and the pool's queue has room for
    it, so a cancellation cannot interrupt it halfway.
    """
    await greenlet_spawn(pooled.close)


async def invalidate(pooled: PoolProxiedConnection, error: Exception | None) -> None:
    """Close ``pooled``'s connection for good: the pool will open a new one in its place."""
    await greenlet_spawn(pooled.invalidate, error)
