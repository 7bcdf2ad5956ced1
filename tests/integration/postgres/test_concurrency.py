"""Races on a real server: the database, not luck, decides who wins."""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from user_core import (
    FieldTaken,
    PageRequest,
    User,
    UserChanges,
    UserDraft,
    VersionMismatch,
)
from user_postgres import ConnectionPool, EngineOptions, PostgresUserRepository

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
RACERS = 50


@pytest.fixture
async def wide_pool(database_url: str) -> AsyncIterator[ConnectionPool]:
    """A pool with a connection for every racer, so that all statements really run at once."""
    pool = ConnectionPool(database_url, EngineOptions(pool_size=RACERS, max_overflow=0))
    yield pool
    await pool.close()


def random_word() -> str:
    """Eight random ASCII letters: unique to this test, and every character has two cases."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def letter_cases(word: str, count: int) -> list[str]:
    """``count`` different spellings of ``word`` (at most 2 ** len(word)), in letter case only."""
    return [
        "".join(c.upper() if n >> i & 1 else c.lower() for i, c in enumerate(word))
        for n in range(count)
    ]


async def test_concurrent_creates_of_one_name_in_any_case_store_exactly_one(
    wide_pool: ConnectionPool,
) -> None:
    repository = PostgresUserRepository(wide_pool)
    spellings = letter_cases(random_word(), RACERS)
    assert len(set(spellings)) == RACERS

    results = await asyncio.gather(
        *(repository.add(UserDraft.parse(name=name), NOW) for name in spellings),
        return_exceptions=True,
    )

    created = [r for r in results if isinstance(r, User)]
    taken = [r for r in results if isinstance(r, FieldTaken)]
    assert (len(created), len(taken)) == (1, RACERS - 1), results
    assert {error.field for error in taken} == {"name"}
    page = await repository.list(PageRequest(with_total=True))
    assert page.total == 1
    assert list(page.users) == created


async def test_concurrent_creates_of_one_email_in_any_case_store_exactly_one(
    wide_pool: ConnectionPool,
) -> None:
    repository = PostgresUserRepository(wide_pool)
    local = random_word()
    addresses = [f"{spelling}@example.com" for spelling in letter_cases(local, RACERS)]

    results = await asyncio.gather(
        *(
            repository.add(UserDraft.parse(name=f"racer {n}", email=address), NOW)
            for n, address in enumerate(addresses)
        ),
        return_exceptions=True,
    )

    created = [r for r in results if isinstance(r, User)]
    taken = [r for r in results if isinstance(r, FieldTaken)]
    assert (len(created), len(taken)) == (1, RACERS - 1), results
    assert {error.field for error in taken} == {"email"}
    page = await repository.list(PageRequest(email=local.upper() + "@EXAMPLE.COM", with_total=True))
    assert page.total == 1


async def test_concurrent_replaces_at_one_version_let_exactly_one_win(
    wide_pool: ConnectionPool,
) -> None:
    repository = PostgresUserRepository(wide_pool)
    user = await repository.add(UserDraft.parse(name=f"user {secrets.token_hex(4)}"), NOW)
    replacements = [UserChanges.parse(name=f"winner {n}", other=str(n)) for n in range(20)]

    results = await asyncio.gather(
        *(repository.update(user.id, change, user.version, NOW) for change in replacements),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, User)]
    losers = [r for r in results if isinstance(r, VersionMismatch)]
    assert (len(winners), len(losers)) == (1, 19), results
    assert {(loser.expected, loser.actual) for loser in losers} == {(1, 2)}
    stored = await repository.get(user.id)
    assert stored == winners[0]
    assert stored.version == user.version + 1
