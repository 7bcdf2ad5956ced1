"""How the repository runs a statement: one way, on an asyncpg connection from the pool.

SQLAlchemy builds every statement (:mod:`user_postgres.statements`), but its execution layer
(the DBAPI adaptation, cursor and result objects, the execution context, the ``Connection``
wrappers) and its pool cost more CPU than the query round trip on the service's hot path
(``BENCHMARKS.md``). So :class:`Executor`:

- borrows a connection from a :class:`~user_postgres.pool.ConnectionPool`, which hands it out,
  takes it back and replaces it once discarded;
- compiles each statement once per set of parameter names to the SQL that SQLAlchemy would send
  (through public API only) and runs it with asyncpg's ``fetch``, which keeps it prepared per
  connection, or unnamed through PgBouncer in transaction mode, as the pool's connect
  arguments say (:func:`~user_postgres.engine.asyncpg_connect_arguments`);
- runs single statements in autocommit mode (no BEGIN, no COMMIT), and transactions with asyncpg's
  own ``BEGIN ISOLATION LEVEL …``;
- invalidates a connection left in an unknown state (lost, or a statement timed out or cancelled
  half-way), so that the pool never hands it out again;
- tells a :class:`StatementObserver` of each statement, the one hook for both metrics and traces:
  SQLAlchemy's cursor events never fire for these statements.

Values go in and come out as SQLAlchemy's asyncpg dialect would pass them: a parameter whose type
has a bind processor (JSONB, serialised to text) goes through it, and the pool's codec decodes
JSONB results. Columns
whose type would need a result processor are refused when the statement is compiled, so a new
type cannot come back silently unconverted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Protocol, TypeAlias, TypeVar, cast

from asyncpg import PostgresError  # type: ignore[import-untyped]
from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import SelectBase
from sqlalchemy.types import TypeEngine

from user_postgres.pool import ConnectionPool
from user_postgres.statements import OPERATION_OPTION

_DIALECT: Dialect = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]

UNNAMED_OPERATION = "other"
"""The operation of a statement that names none in :data:`OPERATION_OPTION`."""

Isolation = Literal["read_committed", "repeatable_read", "serializable"]
"""A transaction's isolation level, as asyncpg spells it."""

Row: TypeAlias = Any
"""A result row: asyncpg's ``Record`` (untyped), read by column name (``row["version"]``).

``Mapping[str, Any]`` once every reader of rows takes a mapping."""

_Token = TypeVar("_Token")


class StatementObserver(Protocol[_Token]):
    """Told of each statement that an :class:`Executor` runs (metrics, traces).

    Both methods are called in the event loop and must be quick and must not raise. ``operation``
    is the statement's :data:`OPERATION_OPTION` (``insert_user``, ``get_user``, …), ``sql`` its
    text with placeholders only (never values). Transaction control (BEGIN, COMMIT, ROLLBACK) is
    not a statement here.
    """

    def started(self, operation: str, sql: str, /) -> _Token:
        """The statement is about to be sent; what this returns is given to :meth:`finished`."""
        ...

    def finished(self, token: _Token, error: BaseException | None, /) -> None:
        """Its rows have arrived (``error`` is ``None``), or it failed with ``error``."""
        ...


class CompiledStatement:
    """One statement as SQL for asyncpg, with the order its parameters go in."""

    __slots__ = ("_converters", "_defaults", "_names", "operation", "sql")

    def __init__(self, statement: Executable, dialect: Dialect, keys: Sequence[str]) -> None:
        if isinstance(statement, SelectBase | UpdateBase):
            for column in statement.exported_columns:
                if column.type.dialect_impl(dialect).result_processor(dialect, None) is not None:
                    raise TypeError(f"{column} needs a result conversion, not supported here")
        if not isinstance(statement, ClauseElement):
            raise TypeError(f"not a SQL expression: {statement!r}")
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(keys)))
        self.sql = str(compiled)
        self.operation: str = statement.get_execution_options().get(
            OPERATION_OPTION, UNNAMED_OPERATION
        )
        self._names = tuple(compiled.positiontup or ())
        # Literal values SQLAlchemy bound itself, such as the 1 of "version + 1".
        self._defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name not in keys
        }
        self._converters: tuple[tuple[int, Callable[[Any], Any]], ...] = tuple(
            (position, converter)
            for position, name in enumerate(self._names)
            if (converter := _bind_processor(compiled.binds[name].type, dialect)) is not None
        )

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``parameters``, by name, converted for the driver."""
        defaults = self._defaults
        values = [
            parameters[name] if name in parameters else defaults[name] for name in self._names
        ]
        for position, convert in self._converters:
            values[position] = convert(values[position])
        return values


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    processor: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


class StatementCache:
    """Compiled statements for one dialect, by statement and parameter names."""

    __slots__ = ("_compiled", "_dialect", "_statements")

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._compiled: dict[tuple[int | str, ...], CompiledStatement] = {}
        # Holds the statements so that their ids stay theirs.
        self._statements: list[Executable] = []

    def get(self, statement: Executable, parameters: Mapping[str, Any]) -> CompiledStatement:
        """``statement`` compiled for these parameter names (compiled on first use)."""
        key: tuple[int | str, ...] = (id(statement), *parameters)  # another order: another key
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledStatement(statement, self._dialect, sorted(parameters))
            self._compiled[key] = compiled
            self._statements.append(statement)
        return compiled


class Executor:
    """Runs statements on connections borrowed from ``pool``, told to ``observer``.

    ``async with executor.connection() as connection`` runs statements in autocommit mode;
    ``async with executor.transaction(...) as connection`` in one transaction, committed at the
    end of the block, rolled back if it raises. Errors are the driver's own (asyncpg's, and
    ``OSError`` or ``TimeoutError`` while connecting), or
    :class:`~user_postgres.pool.PoolTimeout` when no connection becomes free in time.
    """

    __slots__ = ("_observer", "_pool", "_statements")

    def __init__(
        self, pool: ConnectionPool, observer: StatementObserver[Any] | None = None
    ) -> None:
        self._pool = pool
        self._observer = observer
        self._statements = StatementCache(_DIALECT)

    def connection(self) -> Connection:
        """A pooled connection for statements in autocommit mode, returned at the block's end."""
        return Connection(self._pool, self._statements, self._observer, None, readonly=False)

    async def fetch(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        """The rows of one statement in autocommit mode, on a connection borrowed for it alone.

        ``async with executor.connection() as c: return await c.fetch(…)`` without the context
        manager's two coroutines, a tenth of the executor's cost (the request path's reads and
        single writes; ``BENCHMARKS.md``, issue 20).
        """
        connection = self.connection()
        # What Connection.__aenter__ does for autocommit, the executor being its only maker.
        driver = connection._driver = await self._pool.checkout()  # noqa: SLF001
        try:
            return await connection.fetch(statement, parameters)
        finally:
            self._pool.checkin(driver)

    def transaction(self, isolation: Isolation, *, readonly: bool = False) -> Connection:
        """A pooled connection in one transaction of ``isolation``, ended with the block."""
        return Connection(
            self._pool, self._statements, self._observer, isolation, readonly=readonly
        )


class Connection:
    """A connection borrowed from the pool for an ``async with`` block; :meth:`fetch` runs on it."""

    __slots__ = (
        "_driver",
        "_isolation",
        "_observer",
        "_pool",
        "_readonly",
        "_statements",
        "_transaction",
        "invalidated",
    )

    _driver: Any  # asyncpg's Connection: untyped

    def __init__(
        self,
        pool: ConnectionPool,
        statements: StatementCache,
        observer: StatementObserver[Any] | None,
        isolation: Isolation | None,
        *,
        readonly: bool,
    ) -> None:
        self._pool = pool
        self._statements = statements
        self._observer = observer
        self._isolation = isolation
        self._readonly = readonly
        self.invalidated = False
        """Whether the connection was found in an unknown state and closed for good."""

    async def __aenter__(self) -> Connection:
        self._driver = await self._pool.checkout()
        if self._isolation is not None:
            self._transaction = self._driver.transaction(
                isolation=self._isolation, readonly=self._readonly
            )
            try:
                await self._control(self._transaction.start)
            except BaseException:
                self._pool.checkin(self._driver)
                raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._isolation is not None and not self.invalidated:
                await self._control(
                    self._transaction.commit if error is None else self._transaction.rollback
                )
        finally:
            self._pool.checkin(self._driver)

    async def fetch(self, statement: Executable, parameters: Mapping[str, Any]) -> list[Row]:
        """The rows of ``statement`` run with ``parameters`` (by bind name)."""
        compiled = self._statements.get(statement, parameters)
        observer = self._observer
        token = None if observer is None else observer.started(compiled.operation, compiled.sql)
        try:
            with self._pool.statement_deadline():
                rows: list[Row] = await self._driver.fetch(
                    compiled.sql, *compiled.arguments(parameters)
                )
        except BaseException as error:
            if observer is not None:
                observer.finished(token, error)
            await self._invalidate_if_unknown(error)
            raise
        if observer is not None:
            observer.finished(token, None)
        return rows

    async def _control(self, command: Callable[[], Awaitable[None]]) -> None:
        """Run a transaction's ``start``, ``commit`` or ``rollback``."""
        try:
            with self._pool.statement_deadline():
                await command()
        except BaseException as error:
            await self._invalidate_if_unknown(error)
            raise

    async def _invalidate_if_unknown(self, error: BaseException) -> None:
        # A server error leaves the connection usable (a transaction, aborted, still needs its
        # ROLLBACK), unless it says the connection is gone. Anything else (lost, timed out or
        # cancelled mid-statement) leaves its state unknown, so the pool must not hand it out.
        if isinstance(error, PostgresError) and not error.sqlstate.startswith("08"):
            return
        self.invalidated = True
        await self._pool.discard(self._driver)
