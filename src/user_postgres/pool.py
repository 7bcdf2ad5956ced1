"""The connection pool as its watchers see it: :class:`PoolStatus` and :func:`pool_status`.

:func:`~user_postgres.engine.create_engine` builds its pool as a :class:`CountingQueuePool`, which
also counts the callers waiting for a connection (SQLAlchemy's pool does not tell).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, QueuePool


@dataclass(frozen=True, slots=True)
class PoolStatus:
    """The pool at one moment, in connections."""

    size: int
    """Connections the pool keeps (its configured size)."""
    checked_out: int
    """Connections in use now."""
    overflow: int
    """Connections open beyond :attr:`size`, closed again when returned."""
    waiting: int
    """Callers waiting for a connection: for a free one, or for a new one to open."""


class CountingQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool, counting the checkouts in progress."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Checkouts that have begun and not yet got a connection."""
        return self._waiting

    def _do_get(self) -> ConnectionPoolEntry:
        # The pool's one way to a connection, whether one is free, must open, or must be waited for.
        self._waiting += 1
        try:
            return super()._do_get()
        finally:
            self._waiting -= 1


def pool_status(engine: AsyncEngine) -> PoolStatus:
    """How the pool of ``engine`` is used now; cheap, and safe to call from another thread."""
    pool = engine.pool  # read every time: disposing the engine replaces its pool
    if not isinstance(pool, QueuePool):
        return PoolStatus(size=0, checked_out=0, overflow=0, waiting=0)
    return PoolStatus(
        size=pool.size(),
        checked_out=pool.checkedout(),
        # Negative while fewer than `size` connections are open: SQLAlchemy counts from -size.
        overflow=max(pool.overflow(), 0),
        waiting=pool.waiting if isinstance(pool, CountingQueuePool) else 0,
    )
