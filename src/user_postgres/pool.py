"""The repository's connections: :class:`ConnectionPool` (asyncpg's pool) and :class:`PoolStatus`.

The repository's statements run on connections of an asyncpg pool, not on SQLAlchemy's: taking
a connection from SQLAlchemy's pool and giving it back (two greenlet switches, a wrapper object
with a weak-reference finaliser, the reset on return) cost about a quarter of the CPU of a
``GET /users/{id}`` (``BENCHMARKS.md``, issue 20). Migrations still run on a SQLAlchemy engine
(:func:`~user_postgres.engine.create_engine`): Alembic needs one, and they are rare.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL

from user_postgres.deadlines import Deadlines
from user_postgres.engine import EngineOptions, asyncpg_connect_arguments

IDLE_SECONDS: Final = 300.0
"""An unused connection is closed after this long (asyncpg's default); the next use reopens one."""

DISCARD_SECONDS: Final = 2.0
"""How long closing a connection in an unknown state may wait for the server's goodbye."""


class PoolTimeout(TimeoutError):
    """No connection became free within the pool's timeout."""


_UNBOUNDED: Final = nullcontext()


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """The pool at one moment, in connections."""

    size: int
    """The configured ``pool_size`` (up to ``max_overflow`` more may open beyond it)."""
    checked_out: int
    """Connections in use now."""
    overflow: int
    """Connections open beyond ``pool_size`` (at most ``max_overflow``)."""
    waiting: int
    """Callers waiting for a connection: for a free one, or for a new one to open."""


class ConnectionPool:
    """asyncpg's pool for ``url``, opened at first use, holding at most ``pool_size +
    max_overflow`` connections of :class:`EngineOptions`'s settings; close it when done.

    Connections open as concurrent callers need them and close after :data:`IDLE_SECONDS`
    unused. A caller that finds none free waits up to ``pool_timeout`` (then
    :class:`PoolTimeout`); a statement waits for its answer up to ``command_timeout``, as its
    runner bounds it with :meth:`statement_deadline` (both kept by :mod:`~user_postgres.deadlines`).
    JSONB values come back decoded, as SQLAlchemy's asyncpg dialect returns them.
    """

    def __init__(self, url: str | URL, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        # The pool bounds each statement's wait itself (statement_deadline), with one timer for
        # all of them: asyncpg's command_timeout would arm one a statement.
        self._arguments = {
            **asyncpg_connect_arguments(url, self.options),
            "command_timeout": None,
        }
        self._statement_deadlines = (
            None
            if self.options.command_timeout is None
            else Deadlines(self.options.command_timeout, "the database did not answer in time")
        )
        self._checkout_deadlines = Deadlines(
            self.options.pool_timeout, "no database connection became free in time", PoolTimeout
        )
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._size = self.options.pool_size + self.options.max_overflow
        self._taken = 0
        """Connections checked out, and checkouts under way."""
        self._waiting = 0

    @property
    def database(self) -> str:
        """The database's name, as traces report it."""
        return str(self._arguments.get("database") or "")

    async def checkout(self) -> Any:
        """A connection (asyncpg's ``Connection``) for the caller alone, until :meth:`checkin`.

        The pool's reset on return is a no-op: the caller ends its transactions itself, and
        :meth:`discard` closes a connection left in an unknown state.
        """
        pool = self._pool or await self._open()
        # While fewer than the pool's connections are taken, one is free (or can be opened,
        # within connect_timeout): no wait to bound.
        bounded = self._taken >= self._size
        self._taken += 1
        self._waiting += 1
        try:
            if bounded:
                with self._checkout_deadlines.wait():  # PoolTimeout past pool_timeout
                    return await pool.acquire()
            return await pool.acquire()
        except BaseException:
            self._taken -= 1
            raise
        finally:
            self._waiting -= 1

    def statement_deadline(self) -> AbstractContextManager[object]:
        """The bound of one statement's wait for its answer (``command_timeout``, then
        ``TimeoutError``): ``with pool.statement_deadline(): await connection.fetch(…)``."""
        if self._statement_deadlines is None:
            return _UNBOUNDED
        return self._statement_deadlines.wait()

    async def checkin(self, connection: Any) -> None:
        """Give ``connection`` back (asyncpg shields this from the caller's cancellation)."""
        assert self._pool is not None
        self._taken -= 1
        await self._pool.release(connection)

    @staticmethod
    async def discard(connection: Any) -> None:
        """Close ``connection``; the pool replaces it when it is returned.

        Gracefully when it can within :data:`DISCARD_SECONDS` (a statement still running is
        cancelled first, so that the server ends its backend now rather than when the statement
        would end), else at once; as SQLAlchemy's pool invalidates a connection.
        """
        try:
            await asyncio.shield(connection.close(timeout=DISCARD_SECONDS))
        except (TimeoutError, asyncio.CancelledError, OSError, asyncpg.PostgresError):
            connection.terminate()

    def status(self) -> PoolStatus:
        """How the pool is used now; cheap, and safe to call from another thread."""
        size = self.options.pool_size
        pool = self._pool
        if pool is None:
            return PoolStatus(size=size, checked_out=0, overflow=0, waiting=self._waiting)
        open_now = pool.get_size()
        return PoolStatus(
            size=size,
            checked_out=open_now - pool.get_idle_size(),
            overflow=max(open_now - self.options.pool_size, 0),
            waiting=self._waiting,
        )

    async def close(self) -> None:
        """Close every connection, waiting for those in use to be returned."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:  # one pool, however many callers arrive before it is ready
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **self._arguments,
                    init_size=0,  # connections open as callers need them
                    min_size=0,
                    max_size=self._size,
                    max_inactive_connection_lifetime=IDLE_SECONDS,
                    init=_decode_jsonb,
                    reset=_nothing_to_reset,
                )
            return self._pool


async def _decode_jsonb(connection: Any) -> None:
    # SQLAlchemy's bind processor has written the JSON text already: only results need decoding.
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=str, decoder=json.loads, format="text"
    )


async def _nothing_to_reset(_connection: Any) -> None:
    # asyncpg's default reset runs a query on every return (unlisten, close cursors, reset
    # settings); the repository opens none of those, and ends its own transactions.
    return None
