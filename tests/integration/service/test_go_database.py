"""The original Go service's database, adopted in place by ``migrate up`` and given back.

The database is built by the Go service's own DDL (golang-migrate's ``schema_migrations`` at
version 2, its ``users`` table) and filled by its own ``INSERT`` and ``DELETE``, with timestamps
in a session's local time (Europe/Warsaw). The commands run as an operator runs them: the
``user-service`` command line in a process of its own, configured by the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.integration.postgres.test_migrations import schema_of
from user_core import PageRequest, UserDraft, UserName
from user_postgres import ConnectionPool, PostgresUserRepository, create_engine, migrate

pytestmark = pytest.mark.anyio

GO_DDL = (
    # golang-migrate's own table, at the Go service's last migration.
    "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
    "INSERT INTO schema_migrations (version, dirty) VALUES (2, false)",
    # The Go service's migrations 1 and 2.
    "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, other text,"
    " created_at timestamp NOT NULL, updated_at timestamp, CONSTRAINT users_name UNIQUE (name))",
)
GO_INSERT = (
    "INSERT INTO users (name, other, created_at) VALUES ($1, $2, $3)"
    " RETURNING id, name, other, created_at, updated_at"
)
GO_UPDATE = (
    "UPDATE users SET name = $2, other = $3, updated_at = $4 WHERE id = $1"
    " RETURNING id, name, other, created_at, updated_at"
)
GO_DELETE = "DELETE FROM users WHERE id = $1"
GO_ZONE = "Europe/Warsaw"
# Local Warsaw times as the Go service stored them: summer (UTC+2) and winter (UTC+1).
SUMMER = datetime(2026, 7, 1, 12, 30, 0, 123456)  # noqa: DTZ001 (a naive local time)
WINTER = datetime(2026, 1, 15, 8, 0, 0, 1)  # noqa: DTZ001 (a naive local time)
Row = tuple[Any, ...]


async def _run(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def go_statements(url: str, statement: str, *rows: tuple[Any, ...]) -> list[Row]:
    """One of the Go service's statements once per row of ``$n`` parameters, as its driver sends."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            return [tuple(await raw.fetchrow(statement, *row) or ()) for row in rows]
    finally:
        await engine.dispose()


async def _go_inserts(url: str, *users: tuple[str, str, datetime]) -> list[int]:
    """The Go service's own INSERT; the new users' ids."""
    return [row[0] for row in await go_statements(url, GO_INSERT, *users)]


async def rows_of(url: str, query: str = "SELECT * FROM users ORDER BY id") -> list[Row]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def go_database(url: str) -> list[int]:
    """The Go service's database, with users it created, updated and deleted; their ids."""
    await _run(url, *GO_DDL)
    ids = await _go_inserts(
        url,
        ("ann", "", WINTER),
        ("Bob", "ops", SUMMER),
        ("gone", "", SUMMER),
        ("Zoë", "", WINTER),
        ("last, deleted", "", WINTER),
    )
    await go_statements(url, GO_UPDATE, (ids[1], "Bob", "admin", SUMMER))
    await go_statements(url, GO_DELETE, (ids[2],), (ids[4],))
    return ids


def user_service(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``user-service ARGUMENTS`` in a process of its own, on the database at ``url``."""
    environment = {
        **os.environ,
        "USER_SERVICE_DATABASE_URL": url,
        "USER_SERVICE_LEGACY_TIME_ZONE": GO_ZONE,
        "USER_SERVICE_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "user_service", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _in_warsaw(moment: datetime) -> datetime:
    """A Warsaw local time, as the instant it was."""
    return moment.replace(tzinfo=ZoneInfo(GO_ZONE)).astimezone(UTC)


async def test_the_go_database_is_adopted_in_place_and_given_back(
    blank_database_url: str, database_url: str
) -> None:
    url = blank_database_url
    ann, bob, gone, zoe, last = await go_database(url)
    go_schema = await schema_of(url)
    go_rows = await rows_of(url)

    adopted = user_service(url, "migrate", "up")

    assert adopted.returncode == 0, adopted.stderr
    assert GO_ZONE in adopted.stdout + adopted.stderr  # the time zone it read them in, logged
    assert await migrate.current(url) == migrate.head()
    # The schema is the service's own, as a fresh database has it (but for the Go table kept).
    fresh = await schema_of(database_url)
    mine = await schema_of(url)
    for part in ("columns", "constraints", "indexes"):
        kept = [row for row in mine[part] if "schema_migrations" not in row[0]]
        assert kept == fresh[part], part
    assert await rows_of(url, "SELECT * FROM schema_migrations") == [(2, False)]

    pool = ConnectionPool(url)
    try:
        repository = PostgresUserRepository(pool)
        users = (await repository.list(PageRequest(limit=100))).users
        assert [(user.id, user.name.value) for user in users] == [
            (ann, "ann"),
            (bob, "Bob"),
            (zoe, "Zoë"),
        ]
        assert [user.other and user.other.value for user in users] == ["", "admin", ""]
        assert [user.created_at for user in users] == [
            _in_warsaw(WINTER),
            _in_warsaw(SUMMER),
            _in_warsaw(WINTER),
        ]
        assert [user.updated_at for user in users] == [None, _in_warsaw(SUMMER), None]
        assert {user.version for user in users} == {1}
        assert (await repository.get(gone), await repository.get(last)) == (None, None)
        assert [
            user.name.key for user in (await repository.list(PageRequest(name="BOB"))).users
        ] == [UserName("bob").key]
        # Ids go on after every id the Go service handed out, the deleted last one included.
        now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
        created = await repository.add(UserDraft.parse(name="new"), now)
        assert created.id == last + 1
    finally:
        await pool.close()

    given_back = user_service(url, "migrate", "down", "base")

    assert given_back.returncode == 0, given_back.stderr
    back = await schema_of(url)
    for part, rows in back.items():
        assert [row for row in rows if "alembic_version" not in row[0]] == go_schema[part], part
    assert await rows_of(url, "SELECT * FROM schema_migrations") == [(2, False)]
    # Every Go row as it was; the service's own user in Warsaw time, as the Go service writes.
    assert await rows_of(url) == [
        *go_rows,
        (created.id, "new", "", datetime(2026, 12, 1, 4, 0), None),  # noqa: DTZ001
    ]
    # And the Go service carries on: its INSERT takes the next id.
    assert await _go_inserts(url, ("after", "", WINTER)) == [created.id + 1]


async def test_names_equal_ignoring_case_or_unreadable_stop_the_adoption_listed_changing_nothing(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    await go_database(url)
    await _go_inserts(
        url,
        ("Ann", "", WINTER),
        ("ANN", "", WINTER),
        ("bob", "", WINTER),
        ("BOB ", "", SUMMER),  # the service strips names: equal to "bob" too
        ("Straße", "", SUMMER),
        ("STRASSE", "", SUMMER),  # equal under Unicode case folding, not under lower()
        ("   ", "", SUMMER),  # blank once stripped: this service could not read it
        ("bell\a", "", SUMMER),
    )
    before = (await schema_of(url), await rows_of(url))

    refused = user_service(url, "migrate", "up")

    assert refused.returncode != 0
    report = refused.stderr
    assert "3 groups of users share a name as the service compares them, ignoring case" in report
    assert "2 values break the service's rules" in report
    ids = {name: row[0] for row in await rows_of(url) for name in [row[1]]}
    assert f"user {ids['   ']}: name '   ' must not be empty" in report
    bell = ids["bell\a"]
    assert f"user {bell}: name 'bell\\x07' must not contain control" in report
    assert f"name 'ann': users {[ids['ann'], ids['Ann'], ids['ANN']]}" in report
    assert f"name 'bob': users {[ids['Bob'], ids['bob'], ids['BOB ']]}" in report
    assert f"name 'strasse': users {[ids['Straße'], ids['STRASSE']]}" in report
    assert "Traceback" not in report
    assert (await schema_of(url), await rows_of(url)) == before
    assert await migrate.current(url) is None


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("UPDATE schema_migrations SET dirty = true", "version 2 (dirty)"),
        ("UPDATE schema_migrations SET version = 1", "at version 1"),
        ("ALTER TABLE users ADD COLUMN email text", "not the Go service's"),
    ],
)
async def test_a_go_database_in_another_state_is_refused_and_left_alone(
    blank_database_url: str, statement: str, message: str
) -> None:
    url = blank_database_url
    await go_database(url)
    await _run(url, statement)
    before = (await schema_of(url), await rows_of(url))

    refused = user_service(url, "migrate", "up")

    assert refused.returncode != 0
    assert message in refused.stderr
    assert (await schema_of(url), await rows_of(url)) == before
