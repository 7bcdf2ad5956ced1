"""Idempotent creation in the core: the key's rules, 24 hours of retention, batched purges."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from user_core import (
    IDEMPOTENCY_RETENTION,
    IdempotencyKey,
    IdempotencyKeyReused,
    IdempotentRequest,
    PageRequest,
    RecordedResponse,
    User,
    UserDraft,
    UserService,
)
from user_core.model import InvalidValue
from user_core.testing import FixedClock, InMemoryUserRepository


def respond(user: User) -> RecordedResponse:
    return RecordedResponse(201, (("location", f"/users/{user.id}"),), user.name.value.encode())


def once(key: str, fingerprint: bytes = b"same") -> IdempotentRequest:
    return IdempotentRequest(IdempotencyKey(key), fingerprint)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def repository() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def service(repository: InMemoryUserRepository, clock: FixedClock) -> UserService:
    return UserService(repository, clock)


@pytest.mark.parametrize("value", ["k", "~" * 255, " inner space ", "!"])
def test_a_key_is_1_to_255_printable_ascii_characters(value: str) -> None:
    assert IdempotencyKey(value).value == value


@pytest.mark.parametrize("value", ["", "x" * 256, "zoë", "tab\t", "nul\x00", "del\x7f"])
def test_anything_else_is_not_a_key(value: str) -> None:
    with pytest.raises(InvalidValue):
        IdempotencyKey(value)


def test_a_retry_within_24_hours_gets_the_first_response(
    service: UserService, clock: FixedClock
) -> None:
    first = asyncio.run(service.create_once(UserDraft.parse(name="ada"), once("k"), respond))
    clock.advance(IDEMPOTENCY_RETENTION - timedelta(microseconds=1))
    retry = asyncio.run(service.create_once(UserDraft.parse(name="ada"), once("k"), respond))
    assert retry == first
    assert asyncio.run(service.list(PageRequest(with_total=True))).total == 1


def test_within_24_hours_another_request_is_refused(
    service: UserService, clock: FixedClock
) -> None:
    asyncio.run(service.create_once(UserDraft.parse(name="ada"), once("k", b"1"), respond))
    clock.advance(timedelta(hours=23))
    with pytest.raises(IdempotencyKeyReused):
        asyncio.run(service.create_once(UserDraft.parse(name="bob"), once("k", b"2"), respond))


def test_after_24_hours_the_key_is_free_again(service: UserService, clock: FixedClock) -> None:
    asyncio.run(service.create_once(UserDraft.parse(name="ada"), once("k", b"1"), respond))
    clock.advance(IDEMPOTENCY_RETENTION)
    again = asyncio.run(service.create_once(UserDraft.parse(name="bob"), once("k", b"2"), respond))
    assert again.body == b"bob"


def test_purge_forgets_every_expired_key_batch_by_batch(
    service: UserService, repository: InMemoryUserRepository, clock: FixedClock
) -> None:
    for n in range(5):
        asyncio.run(service.create_once(UserDraft.parse(name=f"u{n}"), once(f"old{n}"), respond))
    clock.advance(timedelta(hours=1))
    asyncio.run(service.create_once(UserDraft.parse(name="new"), once("new"), respond))
    clock.advance(IDEMPOTENCY_RETENTION - timedelta(minutes=30))

    assert asyncio.run(service.purge_expired_idempotency_keys(batch_size=2)) == 5
    assert repository.idempotency_keys == {"new"}
