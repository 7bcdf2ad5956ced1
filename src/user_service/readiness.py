"""Readiness: the database answers and its schema is at the newest migration."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from user_postgres import migrate


class DatabaseReadiness:
    """The :class:`user_http.ReadinessProbe` of a PostgreSQL-backed service.

    One short query per check; raises ``StorageUnavailable`` when the database cannot answer
    within the pool's and the server's timeouts, which ``/readyz`` reports as ``503``.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self) -> bool:
        """``True`` when a connection answers and the schema is at head."""
        return await migrate.is_at_head(self._engine)
