"""PostgresUserRepository's error paths and paging, beyond the shared contract."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from user_core import (
    Cursor,
    FieldTaken,
    PageRequest,
    StorageUnavailable,
    User,
    UserChanges,
    UserDraft,
    UserNotFound,
    VersionMismatch,
)
from user_postgres import ConnectionPool, EngineOptions, PostgresUserRepository, create_engine

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(4)}"


@pytest.fixture
def repository(pool: ConnectionPool) -> PostgresUserRepository:
    return PostgresUserRepository(pool)


async def add(repository: PostgresUserRepository, name: str, email: str | None = None) -> User:
    return await repository.add(UserDraft.parse(name=name, email=email), NOW)


# Errors, and their precedence: not found, then version mismatch, then a taken value.


async def test_update_of_a_missing_user_is_not_found_even_with_a_taken_name(
    repository: PostgresUserRepository,
) -> None:
    taken = await add(repository, unique("taken"))

    with pytest.raises(UserNotFound):
        await repository.update(taken.id + 1, UserChanges.parse(name=taken.name.value), 1, NOW)


async def test_a_stale_version_wins_over_a_taken_name(repository: PostgresUserRepository) -> None:
    taken = await add(repository, unique("taken"))
    user = await add(repository, unique("user"))

    with pytest.raises(VersionMismatch) as raised:
        await repository.update(user.id, UserChanges.parse(name=taken.name.value), 5, NOW)

    assert (raised.value.user_id, raised.value.expected, raised.value.actual) == (user.id, 5, 1)
    assert await repository.get(user.id) == user


async def test_update_reports_a_taken_email_and_changes_nothing(
    repository: PostgresUserRepository,
) -> None:
    owner = unique("owner").replace(" ", ".") + "@example.com"
    await add(repository, unique("first"), owner)
    user = await add(repository, unique("second"))

    with pytest.raises(FieldTaken) as raised:
        await repository.update(user.id, UserChanges.parse(email=owner.upper()), None, NOW)

    assert raised.value.field == "email"
    assert await repository.get(user.id) == user


async def test_delete_with_a_stale_version_keeps_the_user(
    repository: PostgresUserRepository,
) -> None:
    user = await add(repository, unique("user"))

    with pytest.raises(VersionMismatch):
        await repository.delete(user.id, 2)

    assert await repository.get(user.id) == user


async def test_ids_beyond_bigint_are_simply_absent(repository: PostgresUserRepository) -> None:
    user = await add(repository, unique("user"))

    assert await repository.get(2**63) is None
    with pytest.raises(UserNotFound):
        await repository.delete(2**64, None)
    with pytest.raises(VersionMismatch):
        await repository.update(user.id, UserChanges(), 2**64, NOW)


@pytest.mark.parametrize("with_total", [False, True])
async def test_filters_holding_nul_simply_match_nothing(
    repository: PostgresUserRepository, with_total: bool
) -> None:
    # Found by schemathesis: PostgreSQL refuses NUL in a text parameter, which was a 500.
    await add(repository, unique("user"), "user@example.com")

    for request in (
        PageRequest(name="user\x00", with_total=with_total),
        PageRequest(email="\x00user@example.com", with_total=with_total),
        PageRequest(name="user", email="\x00", with_total=with_total),
    ):
        page = await repository.list(request)
        assert (list(page.users), page.total) == ([], 0 if with_total else None)


# The database cannot answer: StorageUnavailable, quickly.


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


@pytest.mark.parametrize("port_kind", ["closed", "silent"])
async def test_an_unreachable_server_is_storage_unavailable_within_the_connect_timeout(
    port_kind: str, request: pytest.FixtureRequest
) -> None:
    port = closed_port() if port_kind == "closed" else request.getfixturevalue("silent_server")
    pool = ConnectionPool(
        f"postgresql://nobody@127.0.0.1:{port}/nothing", EngineOptions(connect_timeout=0.5)
    )
    started = time.monotonic()
    try:
        with pytest.raises(StorageUnavailable):
            await PostgresUserRepository(pool).get(1)
    finally:
        await pool.close()
    assert time.monotonic() - started < 2


async def test_a_statement_past_its_timeout_is_storage_unavailable(database_url: str) -> None:
    impatient = ConnectionPool(database_url, EngineOptions(statement_timeout_ms=200))
    blocker = create_engine(database_url)
    try:
        async with blocker.begin() as connection:
            await connection.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            with pytest.raises(StorageUnavailable):
                await PostgresUserRepository(impatient).add(UserDraft.parse(name=unique("u")), NOW)
            assert time.monotonic() - started < 2
        assert (await PostgresUserRepository(impatient).list(PageRequest())).users == []
    finally:
        await impatient.close()
        await blocker.dispose()


async def test_an_exhausted_pool_is_storage_unavailable_after_the_pool_timeout(
    database_url: str,
) -> None:
    pool = ConnectionPool(
        database_url, EngineOptions(pool_size=1, max_overflow=0, pool_timeout=0.3)
    )
    repository = PostgresUserRepository(pool)
    try:
        held = await pool.checkout()
        with pytest.raises(StorageUnavailable):
            await repository.get(1)
        assert pool.status().waiting == 0
        pool.checkin(held)
        assert await repository.get(1) is None  # free again: answered
    finally:
        await pool.close()


async def test_a_connection_the_server_ended_while_idle_is_replaced_before_use(
    database_url: str, engine: AsyncEngine
) -> None:
    name = unique("victim")
    victim = ConnectionPool(database_url, EngineOptions(application_name=name.replace(" ", "-")))
    repository = PostgresUserRepository(victim)
    try:
        user = await add(repository, unique("user"))
        async with engine.connect() as admin:
            await admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name"
                ),
                {"name": name.replace(" ", "-")},
            )
        await asyncio.sleep(0.2)  # the server's goodbye reaches the pool's connection
        assert await repository.get(user.id) == user  # on a new connection: no request fails
        assert victim.status().checked_out == 0
    finally:
        await victim.close()


# Paging.


@pytest.fixture
async def ten_users(repository: PostgresUserRepository) -> list[User]:
    """Ten users in creation order; the odd ones have an email address."""
    return [
        await add(repository, f"User {n}", f"user{n}@Example.com" if n % 2 else None)
        for n in range(1, 11)
    ]


async def test_cursor_pages_walk_every_user_once_in_id_order(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    seen: list[User] = []
    request = PageRequest(limit=3)
    while True:
        page = await repository.list(request)
        seen.extend(page.users)
        if page.next_cursor is None:
            break
        assert page.next_cursor == Cursor(page.users[-1].id)
        request = PageRequest(limit=3, cursor=page.next_cursor)

    assert seen == ten_users


async def test_a_cursor_survives_the_deletion_of_the_user_it_points_after(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    first = await repository.list(PageRequest(limit=4))
    assert first.next_cursor is not None
    await repository.delete(first.users[-1].id, None)

    second = await repository.list(PageRequest(limit=4, cursor=first.next_cursor))

    assert list(second.users) == ten_users[4:8]


async def test_offset_pages_count_from_the_first_matching_user(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    page = await repository.list(PageRequest(limit=4, offset=8, with_total=True))
    beyond = await repository.list(PageRequest(limit=4, offset=10, with_total=True))

    assert (list(page.users), page.next_cursor, page.total) == (ten_users[8:], None, 10)
    assert (list(beyond.users), beyond.next_cursor, beyond.total) == ([], None, 10)


async def test_the_total_counts_every_match_whatever_the_cursor(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    page = await repository.list(
        PageRequest(limit=2, cursor=Cursor(ten_users[5].id), with_total=True)
    )

    assert list(page.users) == ten_users[6:8]
    assert page.total == 10


async def test_filters_combine_and_ignore_case(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    by_email = await repository.list(PageRequest(email="USER3@example.COM", with_total=True))
    both = await repository.list(
        PageRequest(name="user 3", email="user3@example.com", with_total=True)
    )
    mismatched = await repository.list(
        PageRequest(name="user 4", email="user3@example.com", with_total=True)
    )

    assert (list(by_email.users), by_email.total) == ([ten_users[2]], 1)
    assert (list(both.users), both.total) == ([ten_users[2]], 1)
    assert (list(mismatched.users), mismatched.total) == ([], 0)


async def test_a_filtered_listing_pages_through_matches_only(
    repository: PostgresUserRepository,
) -> None:
    twins = [await add(repository, f"twin{n}", f"t{n}@example.com") for n in range(3)]
    await add(repository, "other")

    page = await repository.list(PageRequest(limit=1, name="TWIN1", with_total=True))

    assert (list(page.users), page.next_cursor, page.total) == ([twins[1]], None, 1)


async def test_reads_run_alongside_each_other_on_one_pool(
    repository: PostgresUserRepository, ten_users: list[User]
) -> None:
    pages = await asyncio.gather(*(repository.list(PageRequest(limit=10)) for _ in range(20)))

    assert all(list(page.users) == ten_users for page in pages)
