"""Forgetting expired idempotency keys in the background, without blocking requests.

Each process purges on its own schedule, with jitter so that replicas do not all purge at once;
every purge deletes in small batches that skip rows a creation holds (``FOR UPDATE SKIP
LOCKED``), so purges and requests never wait for each other, and two replicas purging together
split the work instead of queueing. Expired keys are ignored by creation anyway: purging only
keeps the table small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator

from user_core import UserService

_logger = logging.getLogger(__name__)
_JITTER = 0.2
"""Each wait is the interval ± this fraction of it."""


@contextlib.asynccontextmanager
async def purging_expired_keys(service: UserService, interval: float) -> AsyncIterator[None]:
    """Within this block, purge expired idempotency keys every ``interval`` seconds (about)."""
    task = asyncio.create_task(_purge_forever(service, interval), name="purge-idempotency-keys")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _purge_forever(service: UserService, interval: float) -> None:
    while True:
        # Jitter, so that replicas do not purge in step; nothing secret depends on it.
        await asyncio.sleep(interval * random.uniform(1 - _JITTER, 1 + _JITTER))  # noqa: S311
        try:
            purged = await service.purge_expired_idempotency_keys()
        except Exception:
            # A database outage or a bug must not end the loop: the next round tries again.
            _logger.exception("purging expired idempotency keys failed; retrying later")
        else:
            if purged:
                _logger.info("purged %d expired idempotency keys", purged)
