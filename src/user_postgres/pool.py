"""The repository's connections to PostgreSQL: :class:`ConnectionPool` and :class:`PoolStatus`.

The repository's statements run on asyncpg connections that this pool keeps, not on
SQLAlchemy's pool nor on asyncpg's: taking a connection from SQLAlchemy's pool and giving it
back (two greenlet switches, a wrapper object with a weak-reference finaliser, the reset on
return) cost about a quarter of the CPU of a ``GET /users/{id}``, and asyncpg's pool (a proxy
object per checkout, a task and a timeout per return, an idle timer armed and cancelled per
use) still cost 32 µs per statement, about a tenth of it (``BENCHMARKS.md``, issue 20). Here a
checkout pops an idle connection and a checkin pushes it back, or hands it to the caller that
has waited longest. Migrations still run on a SQLAlchemy engine
(:func:`~user_postgres.engine.create_engine`): Alembic needs one, and they are rare.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import deque
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


class PoolClosed(asyncpg.InterfaceError):  # type: ignore[misc]
    """The pool was closed: it hands out no more connections (asyncpg's own pool raised its
    ``InterfaceError`` too)."""


_UNBOUNDED: Final = nullcontext()
_LOOKS_PER_IDLE_LIMIT: Final = 10
"""Idle connections are looked at every tenth of :data:`IDLE_SECONDS`."""


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """The pool at one moment, in connections."""

    size: int
    """The configured ``pool_size`` (up to ``max_overflow`` more may open beyond it)."""
    checked_out: int
    """Connections in use now (and being opened for a caller)."""
    overflow: int
    """Connections open beyond ``pool_size`` (at most ``max_overflow``)."""
    waiting: int
    """Callers waiting for a connection: for a free one, or for a new one to open."""


class ConnectionPool:
    """At most ``pool_size + max_overflow`` asyncpg connections to ``url``, of
    :class:`EngineOptions`'s settings, shared by the callers of :meth:`checkout`; close it when
    done.

    Connections open as concurrent callers need them and close after ``idle_seconds`` unused. A
    caller that finds none free waits its turn (first come, first served) up to
    ``pool_timeout`` (then :class:`PoolTimeout`); a statement waits for its answer up to
    ``command_timeout``, as its runner bounds it with :meth:`statement_deadline` (both kept by
    :mod:`~user_postgres.deadlines`). JSONB values come back decoded, as SQLAlchemy's asyncpg
    dialect returns them.
    """

    def __init__(
        self,
        url: str | URL,
        options: EngineOptions | None = None,
        *,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
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
        self._size = self.options.pool_size + self.options.max_overflow
        self._idle_seconds = idle_seconds
        self._look_every = idle_seconds / _LOOKS_PER_IDLE_LIMIT
        self._idle: deque[tuple[Any, float]] = deque()
        """Free connections, each with when it was returned; the last returned is used first."""
        self._turns: deque[asyncio.Future[Any]] = deque()
        """Callers waiting for a connection (or for the room to open one: ``None``), in order."""
        self._open = 0
        """Connections open, and being opened."""
        self._waiting = 0
        self._closing: asyncio.Future[None] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._closes: set[asyncio.Task[None]] = set()

    @property
    def database(self) -> str:
        """The database's name, as traces report it."""
        return str(self._arguments.get("database") or "")

    async def checkout(self) -> Any:
        """A connection (asyncpg's ``Connection``) for the caller alone, until :meth:`checkin`.

        The caller ends its transactions itself, and :meth:`discard` closes a connection left in
        an unknown state. Raises :class:`PoolTimeout`, or what opening a connection raised
        (``OSError``, ``TimeoutError``, asyncpg's errors), or :class:`PoolClosed`.
        """
        if self._closing is not None:
            raise PoolClosed("the connection pool is closed")
        idle = self._idle
        while idle:
            connection = idle.pop()[0]
            if not connection.is_closed():
                return connection
            self._open -= 1  # lost while it was idle
        if self._open < self._size:
            self._open += 1
            return await self._connect()
        self._waiting += 1
        turn: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        try:
            with self._checkout_deadlines.wait():  # PoolTimeout past pool_timeout
                connection = await turn
        except BaseException:
            if turn.done() and not turn.cancelled():  # handed over as the wait ended: pass it on
                handed = turn.result()
                if handed is None:
                    self._pass_room()
                else:
                    self.checkin(handed)
            raise
        finally:
            self._waiting -= 1
        return await self._connect() if connection is None else connection

    def statement_deadline(self) -> AbstractContextManager[object]:
        """The bound of one statement's wait for its answer (``command_timeout``, then
        ``TimeoutError``): ``with pool.statement_deadline(): await connection.fetch(…)``."""
        if self._statement_deadlines is None:
            return _UNBOUNDED
        return self._statement_deadlines.wait()

    def checkin(self, connection: Any) -> None:
        """Give back ``connection``: to the caller that has waited longest, else to the free ones.

        A connection left in a transaction is closed instead (the next caller would run in it),
        and one already closed is dropped: its room goes to the caller waiting longest, who
        opens a new one.
        """
        if connection.is_closed() or connection.is_in_transaction() or self._closing is not None:
            self._close_soon(connection)
            self._pass_room()
            return
        turns = self._turns
        while turns:
            turn = turns.popleft()
            if not turn.done():  # not given up (timed out, cancelled)
                turn.set_result(connection)
                return
        self._idle.append((connection, time.monotonic()))

    @staticmethod
    async def discard(connection: Any) -> None:
        """Close ``connection``; the pool replaces it when it is returned.

        Gracefully when it can within :data:`DISCARD_SECONDS` (a statement still running is
        cancelled first, so that the server ends its backend now rather than when the statement
        would end), else at once.
        """
        try:
            await asyncio.shield(connection.close(timeout=DISCARD_SECONDS))
        except (TimeoutError, asyncio.CancelledError, OSError, asyncpg.PostgresError):
            connection.terminate()

    def status(self) -> PoolStatus:
        """How the pool is used now; cheap, and safe to call from another thread."""
        size = self.options.pool_size
        open_now = self._open
        return PoolStatus(
            size=size,
            checked_out=open_now - len(self._idle),
            overflow=max(open_now - size, 0),
            waiting=self._waiting,
        )

    async def close(self) -> None:
        """Close every connection, waiting for those in use to be returned; callers still
        waiting for one get :class:`PoolClosed`."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_future()
            if self._sweeper is not None:
                self._sweeper.cancel()
            while self._turns:
                turn = self._turns.popleft()
                if not turn.done():
                    turn.set_exception(PoolClosed("the connection pool is closed"))
            self._close_free(returned_before=math.inf)
            if self._open == 0:
                self._closing.set_result(None)
        await asyncio.shield(self._closing)
        while self._closes:
            await asyncio.gather(*self._closes, return_exceptions=True)

    def _pass_room(self) -> None:
        """A connection's room is free: the caller waiting longest opens one in it."""
        turns = self._turns
        while turns:
            turn = turns.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._open -= 1
        closing = self._closing
        if closing is not None and self._open == 0 and not closing.done():
            closing.set_result(None)

    async def _connect(self) -> Any:
        """A new connection, in the room the caller took (counted in ``_open``) or was given."""
        self._waiting += 1
        try:
            connection = await asyncpg.connect(**self._arguments)
            try:
                await _decode_jsonb(connection)
            except BaseException:
                connection.terminate()
                raise
        except BaseException:
            self._pass_room()
            raise
        finally:
            self._waiting -= 1
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(self._look_every, self._close_idle, loop)
        return connection

    def _close_idle(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the connections unused for ``idle_seconds``; look again later."""
        self._close_free(returned_before=time.monotonic() - self._idle_seconds)
        self._sweeper = loop.call_later(self._look_every, self._close_idle, loop)

    def _close_free(self, *, returned_before: float) -> None:
        """Close the free connections returned before that moment (all of them: ``inf``)."""
        idle = self._idle
        while idle and idle[0][1] < returned_before:
            self._close_soon(idle.popleft()[0])
            self._open -= 1

    def _close_soon(self, connection: Any) -> None:
        if connection.is_closed():
            return
        task = asyncio.get_running_loop().create_task(self.discard(connection))
        self._closes.add(task)
        task.add_done_callback(self._closes.discard)


async def _decode_jsonb(connection: Any) -> None:
    # SQLAlchemy's bind processor has written the JSON text already: only results need decoding.
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=str, decoder=json.loads, format="text"
    )
