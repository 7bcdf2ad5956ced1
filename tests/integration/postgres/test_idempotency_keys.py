"""Idempotency records on PostgreSQL, beyond the shared contract: rows, retention, purge, faults."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from user_core import (
    IDEMPOTENCY_RETENTION,
    FieldTaken,
    IdempotencyKey,
    IdempotentRequest,
    PageRequest,
    RecordedResponse,
    StorageUnavailable,
    User,
    UserDraft,
    UserService,
)
from user_core.testing import FixedClock
from user_postgres import ConnectionPool, EngineOptions, PostgresUserRepository

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def once(key: str, fingerprint: bytes = b"same") -> IdempotentRequest:
    return IdempotentRequest(IdempotencyKey(key), fingerprint)


def respond(user: User) -> RecordedResponse:
    return RecordedResponse(
        201, (("content-type", "application/json"), ("etag", '"1"')), b"\x00\xff%d" % user.id
    )


@pytest.fixture
def repository(pool: ConnectionPool) -> PostgresUserRepository:
    return PostgresUserRepository(pool)


async def test_the_record_holds_the_response_the_user_and_24_hours_of_retention(
    repository: PostgresUserRepository, engine: AsyncEngine
) -> None:
    service = UserService(repository, FixedClock(NOW))
    recorded = await service.create_once(UserDraft.parse(name="ada"), once("k"), respond)

    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM idempotency_keys"))).one()
    user = (await repository.list(PageRequest())).users[0]
    assert recorded == respond(user)
    assert row.key == "k"
    assert (row.status, row.body, row.user_id) == (201, recorded.body, user.id)
    assert row.headers == [["content-type", "application/json"], ["etag", '"1"']]
    assert (row.created_at, row.expires_at) == (NOW, NOW + IDEMPOTENCY_RETENTION)


async def test_a_failed_creation_leaves_neither_user_nor_key(
    repository: PostgresUserRepository, engine: AsyncEngine
) -> None:
    await repository.add(UserDraft.parse(name="ada"), NOW)
    with pytest.raises(FieldTaken):
        await repository.add_once(
            UserDraft.parse(name="ADA"), once("k"), respond, NOW, NOW + timedelta(days=1)
        )
    async with engine.connect() as connection:
        keys = (await connection.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar()
    assert keys == 0
    assert (await repository.list(PageRequest(with_total=True))).total == 1


async def test_an_expired_record_not_yet_purged_is_replaced(
    repository: PostgresUserRepository, engine: AsyncEngine
) -> None:
    expiry = NOW + timedelta(seconds=1)
    await repository.add_once(UserDraft.parse(name="ada"), once("k", b"a"), respond, NOW, expiry)
    later = NOW + timedelta(days=2)
    second = await repository.add_once(
        UserDraft.parse(name="bob"), once("k", b"b"), respond, later, later + timedelta(days=1)
    )
    async with engine.connect() as connection:
        row = (await connection.execute(text("SELECT * FROM idempotency_keys"))).one()
    assert (row.request_hash, row.body, row.created_at) == (b"b", second.body, later)


async def test_purge_skips_a_row_locked_by_another_transaction_without_waiting(
    repository: PostgresUserRepository, engine: AsyncEngine
) -> None:
    expiry = NOW + timedelta(seconds=1)
    for n in range(3):
        await repository.add_once(
            UserDraft.parse(name=f"u{n}"), once(f"k{n}"), respond, NOW, expiry
        )
    later = NOW + timedelta(days=1)

    async with engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM idempotency_keys WHERE key = 'k1' FOR UPDATE"))
        purged_meanwhile = await asyncio.wait_for(repository.purge_expired(later, 1000), 2)
        await holder.commit()
    purged_after = await repository.purge_expired(later, 1000)

    assert (purged_meanwhile, purged_after) == (2, 1)


async def test_a_creation_that_cannot_get_its_key_in_time_is_storage_unavailable(
    database_url: str, engine: AsyncEngine
) -> None:
    impatient = ConnectionPool(database_url, EngineOptions(statement_timeout_ms=200))
    try:
        repository = PostgresUserRepository(impatient)
        async with engine.connect() as holder:
            await holder.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('k', 0))"))
            with pytest.raises(StorageUnavailable):
                await repository.add_once(
                    UserDraft.parse(name="ada"), once("k"), respond, NOW, NOW + timedelta(days=1)
                )
        assert (await repository.list(PageRequest(with_total=True))).total == 0
    finally:
        await impatient.close()
