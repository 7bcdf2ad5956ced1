"""The use-cases, on the in-memory repository and a fixed clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from user_core import (
    InvalidInput,
    PageRequest,
    UserChanges,
    UserDraft,
    UserNotFound,
    UserService,
    VersionMismatch,
)
from user_core.testing import FixedClock, InMemoryUserRepository


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(tick=timedelta(seconds=1))


@pytest.fixture
def service(clock: FixedClock) -> UserService:
    return UserService(InMemoryUserRepository(), clock)


def test_create_stamps_the_user_with_the_injected_clock(
    service: UserService, clock: FixedClock
) -> None:
    start = clock.current
    user = asyncio.run(service.create(UserDraft.parse(name="ada")))
    assert user.created_at == start
    assert user.updated_at is None


def test_replace_clears_absent_optional_fields_and_bumps_the_version(service: UserService) -> None:
    async def scenario() -> None:
        user = await service.create(UserDraft.parse(name="ada", email="ada@example.com", other="x"))
        replaced = await service.replace(user.id, UserDraft.parse(name="ada"), expected_version=1)
        assert (replaced.email, replaced.other, replaced.version) == (None, None, 2)
        assert replaced.updated_at is not None
        assert replaced.updated_at > user.created_at

    asyncio.run(scenario())


def test_a_patch_that_changes_nothing_is_still_a_new_version(service: UserService) -> None:
    async def scenario() -> None:
        user = await service.create(UserDraft.parse(name="ada"))
        patched = await service.patch(user.id, UserChanges())
        assert (patched.name, patched.version) == (user.name, 2)

    asyncio.run(scenario())


def test_get_and_delete_raise_not_found_for_unknown_ids(service: UserService) -> None:
    async def scenario() -> None:
        with pytest.raises(UserNotFound):
            await service.get(99)
        with pytest.raises(UserNotFound):
            await service.delete(99)

    asyncio.run(scenario())


def test_ids_outside_the_valid_range_are_invalid_input(service: UserService) -> None:
    with pytest.raises(InvalidInput):
        asyncio.run(service.get(0))


def test_a_stale_delete_keeps_the_user(service: UserService) -> None:
    async def scenario() -> None:
        user = await service.create(UserDraft.parse(name="ada"))
        await service.patch(user.id, UserChanges.parse(other="x"))
        with pytest.raises(VersionMismatch):
            await service.delete(user.id, expected_version=1)
        assert (await service.get(user.id)).version == 2

    asyncio.run(scenario())


def test_list_returns_a_page_with_a_total(service: UserService) -> None:
    async def scenario() -> None:
        for name in ("a", "b", "c"):
            await service.create(UserDraft.parse(name=name))
        page = await service.list(PageRequest(limit=2, with_total=True))
        assert [user.name.value for user in page.users] == ["a", "b"]
        assert page.total == 3
        assert page.next_cursor is not None

    asyncio.run(scenario())
