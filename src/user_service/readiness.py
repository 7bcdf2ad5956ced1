"""Readiness: the database answers, quickly, and its schema is at the newest migration."""

from __future__ import annotations

import asyncio
from typing import Final

from user_postgres import ConnectionPool, migrate

READINESS_TIMEOUT_SECONDS: Final = 1.0
"""How long a readiness check waits for the database: below the probes' ``timeoutSeconds``."""


class DatabaseReadiness:
    """The :class:`user_http.ReadinessProbe` of a PostgreSQL-backed service.

    One short query per check, answered within :data:`READINESS_TIMEOUT_SECONDS` whatever the
    database does: a check the database has not answered by then is "not ready" (``503``), and
    it goes on in the background, bounded by the pool's own timeouts; until it ends, further
    checks wait for it rather than start another, so a frozen database costs one connection, not
    one per probe. Raises ``StorageUnavailable`` when the database refuses, which ``/readyz``
    reports as ``503`` too.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._check: asyncio.Task[bool] | None = None

    async def __call__(self) -> bool:
        """``True`` when a connection answers in time and the schema is at head."""
        if self._check is None or self._check.done():
            self._check = asyncio.create_task(migrate.is_at_head(self._pool))
            # Retrieved here so that one no probe awaited is never reported as lost.
            self._check.add_done_callback(_retrieve)
        done, _ = await asyncio.wait({self._check}, timeout=READINESS_TIMEOUT_SECONDS)
        return bool(done) and self._check.result()


def _retrieve(task: asyncio.Task[bool]) -> None:
    if not task.cancelled():
        task.exception()
