"""The background purge of expired idempotency keys runs while the app runs, and stops with it."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from user_core import (
    IDEMPOTENCY_RETENTION,
    IdempotencyKey,
    IdempotentRequest,
    RecordedResponse,
    StorageUnavailable,
    UserDraft,
    UserService,
)
from user_core.testing import FixedClock, InMemoryUserRepository
from user_service.purge import purging_expired_keys


def test_expired_keys_are_purged_in_the_background_until_the_block_ends() -> None:
    repository = InMemoryUserRepository()
    clock = FixedClock()
    service = UserService(repository, clock)

    async def scenario() -> tuple[frozenset[str], frozenset[str], bool]:
        request = IdempotentRequest(IdempotencyKey("k"), b"body")
        await service.create_once(
            UserDraft.parse(name="ada"), request, lambda _: RecordedResponse(201, (), b"")
        )
        before = repository.idempotency_keys
        clock.advance(IDEMPOTENCY_RETENTION)
        async with purging_expired_keys(service, interval=0.01):
            for _ in range(200):
                if not repository.idempotency_keys:
                    break
                await asyncio.sleep(0.01)
            after = repository.idempotency_keys
        tasks_left = any(
            task.get_name() == "purge-idempotency-keys" for task in asyncio.all_tasks()
        )
        return before, after, tasks_left

    before, after, tasks_left = asyncio.run(scenario())
    assert (before, after, tasks_left) == (frozenset({"k"}), frozenset(), False)


class _FailingOnce(InMemoryUserRepository):
    """Unavailable at the first purge, as during a database outage."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    async def purge_expired(self, now: datetime, limit: int) -> int:
        if not self.failures:
            self.failures += 1
            raise StorageUnavailable("down")
        return await super().purge_expired(now, limit)


def test_a_failed_purge_is_logged_and_tried_again(caplog: pytest.LogCaptureFixture) -> None:
    repository = _FailingOnce()
    clock = FixedClock()
    service = UserService(repository, clock)

    async def scenario() -> frozenset[str]:
        request = IdempotentRequest(IdempotencyKey("k"), b"body")
        await service.create_once(
            UserDraft.parse(name="ada"), request, lambda _: RecordedResponse(201, (), b"")
        )
        clock.advance(IDEMPOTENCY_RETENTION)
        async with purging_expired_keys(service, interval=0.01):
            for _ in range(200):
                if not repository.idempotency_keys:
                    break
                await asyncio.sleep(0.01)
        return repository.idempotency_keys

    assert asyncio.run(scenario()) == frozenset()
    assert repository.failures == 1
    assert "purging expired idempotency keys failed" in caplog.text
