"""The Alembic history: every step reversible, the end equal to tables.py, safe to run at once."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from user_core import EmailAddress, FieldTaken, PageRequest, UserDraft, UserName
from user_postgres import ConnectionPool, PostgresUserRepository, create_engine, migrate
from user_postgres.keys import KeyCollisions
from user_postgres.tables import metadata

pytestmark = pytest.mark.anyio

REVISIONS = [
    script.revision
    for script in reversed(
        list(ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions())
    )
]

Schema = dict[str, list[tuple[Any, ...]]]

_CATALOG = {
    "columns": """
        SELECT table_name, column_name,
               -- the column's rank: a column dropped and added again gets a new attnum
               rank() OVER (PARTITION BY table_name ORDER BY ordinal_position),
               data_type, is_nullable, column_default, is_identity, identity_generation,
               collation_name
        FROM information_schema.columns WHERE table_schema = 'public'
        ORDER BY table_name, column_name""",
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
        ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
        ORDER BY 1, 2""",
    "sequences": """
        SELECT sequencename, data_type, start_value, increment_by FROM pg_sequences
        WHERE schemaname = 'public' ORDER BY 1""",
}


async def schema_of(url: str) -> Schema:
    """What the catalog says of the public schema's tables, constraints, indexes, sequences."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                part: [tuple(row) for row in await connection.execute(text(query))]
                for part, query in _CATALOG.items()
            }
    finally:
        await engine.dispose()


def without_positions_and_alembic(schema: Schema) -> Schema:
    """Compare tables.py's schema with a migrated one: column order follows history there."""
    columns = [
        (table, column, *rest[1:])
        for table, column, *rest in schema["columns"]
        if table != "alembic_version"
    ]
    others = {
        part: [row for row in rows if "alembic_version" not in row[0]]
        for part, rows in schema.items()
        if part != "columns"
    }
    return {"columns": columns, **others}


def test_the_history_is_one_line_from_0001_to_the_head() -> None:
    assert [f"{number:04d}" for number in range(1, len(REVISIONS) + 1)] == REVISIONS
    assert migrate.head() == REVISIONS[-1]


async def test_the_stairway_goes_up_and_down_every_step(blank_database_url: str) -> None:
    for revision in REVISIONS:
        await migrate.upgrade(blank_database_url, revision)
        reached = await schema_of(blank_database_url)
        await migrate.downgrade(blank_database_url)
        await migrate.upgrade(blank_database_url, revision)
        assert await schema_of(blank_database_url) == reached, f"{revision} down and up differs"
        assert await migrate.current(blank_database_url) == revision


async def test_down_to_base_and_up_again_rebuilds_exactly_the_same_schema(
    blank_database_url: str,
) -> None:
    await migrate.upgrade(blank_database_url)
    first = await schema_of(blank_database_url)

    await migrate.downgrade(blank_database_url, "base")
    emptied = await schema_of(blank_database_url)
    await migrate.upgrade(blank_database_url)

    assert await schema_of(blank_database_url) == first
    assert await migrate.current(blank_database_url) == migrate.head()
    assert [row[0] for row in emptied["columns"]] == ["alembic_version"]


async def test_autogenerate_finds_no_drift_from_tables_py(engine: AsyncEngine) -> None:
    # Named CHECK constraints included: importing user_postgres.migrate registers their comparison.
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_autogenerate_sees_a_check_constraint_missing_or_undeclared(
    engine: AsyncEngine,
) -> None:
    def differences(connection: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with engine.begin() as connection:
        await connection.execute(text("ALTER TABLE users DROP CONSTRAINT users_other_length"))
        await connection.execute(
            text("ALTER TABLE users ADD CONSTRAINT users_stray CHECK (version < 1000000)")
        )
        found = await connection.run_sync(differences)

    assert [(kind, constraint.name) for kind, constraint in found] == [
        ("add_constraint", "users_other_length"),
        ("remove_constraint", "users_stray"),
    ]


async def test_the_migrated_schema_equals_the_one_tables_py_creates(
    database_url: str, blank_database_url: str
) -> None:
    engine = create_engine(blank_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    finally:
        await engine.dispose()

    migrated = without_positions_and_alembic(await schema_of(database_url))
    created = without_positions_and_alembic(await schema_of(blank_database_url))

    assert migrated == created


async def test_replicas_migrating_at_once_all_succeed(blank_database_url: str) -> None:
    replicas = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import asyncio, sys; from user_postgres import migrate;"
            " asyncio.run(migrate.upgrade(sys.argv[1]))",
            blank_database_url,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]

    outcomes = [await replica.communicate() for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0] * 4, outcomes
    assert await migrate.current(blank_database_url) == migrate.head()


async def test_concurrent_upgrades_in_one_process_all_succeed(blank_database_url: str) -> None:
    await asyncio.gather(*(migrate.upgrade(blank_database_url) for _ in range(4)))

    assert await migrate.current(blank_database_url) == migrate.head()


async def test_an_upgrade_waits_while_another_holds_the_migration_lock(
    blank_database_url: str,
) -> None:
    holder = create_engine(blank_database_url)
    try:
        async with holder.connect() as connection:
            key = {"key": migrate.ADVISORY_LOCK_KEY}
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            upgrade = asyncio.create_task(migrate.upgrade(blank_database_url))
            await asyncio.sleep(0.5)
            waited = not upgrade.done()
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
            await asyncio.wait_for(upgrade, timeout=30)
    finally:
        await holder.dispose()

    assert waited
    assert await migrate.current(blank_database_url) == migrate.head()


async def test_is_at_head_tells_a_stale_schema(blank_database_url: str) -> None:
    engine, pool = create_engine(blank_database_url), ConnectionPool(blank_database_url)
    try:
        before = (await migrate.is_at_head(engine), await migrate.is_at_head(pool))
        await migrate.upgrade(engine)
        at_head = (await migrate.is_at_head(engine), await migrate.is_at_head(pool))
        async with engine.connect() as connection:
            also_on_a_connection = await migrate.is_at_head(connection)
        await migrate.downgrade(engine)
        behind = (await migrate.is_at_head(engine), await migrate.is_at_head(pool))
    finally:
        await engine.dispose()
        await pool.close()

    assert (before, at_head, behind) == ((False, False), (True, True), (False, False))
    assert also_on_a_connection


async def test_keys_of_legacy_users_follow_the_services_case_folding(
    blank_database_url: str,
) -> None:
    await migrate.upgrade(blank_database_url, "0003")
    await execute(
        blank_database_url,
        "INSERT INTO users (name, created_at) VALUES ('Straße', now()), ('ΣΊΣΥΦΟΣ', now())",
    )

    await migrate.upgrade(blank_database_url)

    engine, pool = create_engine(blank_database_url), ConnectionPool(blank_database_url)
    try:
        repository = PostgresUserRepository(pool)
        found = await repository.list(PageRequest(name="STRASSE"))
        assert [user.name.value for user in found.users] == ["Straße"]
        with pytest.raises(FieldTaken):
            await repository.add(UserDraft.parse(name="σίσυφοσ"), datetime.now(UTC))
        async with engine.connect() as connection:
            keys = (await connection.execute(text("SELECT name, name_key FROM users"))).all()
        assert all(key == UserName(name).key for name, key in keys)
    finally:
        await engine.dispose()
        await pool.close()


async def test_legacy_names_equal_ignoring_case_stop_the_upgrade_with_the_users_named(
    blank_database_url: str,
) -> None:
    await migrate.upgrade(blank_database_url, "0003")
    await execute(
        blank_database_url,
        "INSERT INTO users (name, created_at) VALUES ('Ada', now()), ('ADA', now()), ('b', now())",
    )

    with pytest.raises(RuntimeError, match=r"'ada': users \[1, 2\]"):
        await migrate.upgrade(blank_database_url)

    assert await migrate.current(blank_database_url) == "0003"


async def execute(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def test_keys_of_stored_users_follow_the_identity_rule(blank_database_url: str) -> None:
    url = blank_database_url
    await migrate.upgrade(url, "0006")
    # Keys filled in by revision 0006's trigger: lower() and NFC, as before the identity rules.
    await execute(
        url,
        "INSERT INTO users (name, email, created_at) VALUES"
        " ('ｇuest', NULL, now()), ('jane  doe', 'a@bücher.de', now()),"
        " ('аdmin', 'y@example。com', now()), ('root' || chr(12644), NULL, now())",
    )

    await migrate.upgrade(url)

    stored = await rows(url, "SELECT name, name_key, email, email_key FROM users ORDER BY id")
    assert [(name_key, email_key) for _, name_key, _, email_key in stored] == [
        ("guest", None),
        ("jane doe", "a@xn--bcher-kva.de"),
        ("аdmin", "y@example.com"),  # a mixed-script name, kept as stored
        ("root", None),  # the Hangul filler left out of the key
    ]
    for name, name_key, email, email_key in stored:
        assert name_key == UserName.read(name).key
        assert email is None or email_key == EmailAddress.read(email).key
    pool = ConnectionPool(url)
    try:
        repository = PostgresUserRepository(pool)
        for taken in (
            UserDraft.parse(name="GUEST"),
            UserDraft.parse(name="Jane Doe"),
            UserDraft.parse(name="root"),
            UserDraft.parse(name="other", email="A@xn--bcher-kva.de"),
            UserDraft.parse(name="another", email="y@example.com"),
        ):
            with pytest.raises(FieldTaken):
                await repository.add(taken, datetime.now(UTC))
        page = await repository.list(PageRequest(name="аdmin"))
        assert [user.name.value for user in page.users] == ["аdmin"]
    finally:
        await pool.close()


async def test_users_one_identity_by_the_new_rule_stop_the_upgrade_listed_changing_nothing(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    await migrate.upgrade(url, "0006")
    await execute(
        url,
        "INSERT INTO users (name, email, created_at) VALUES"
        " ('guest', NULL, now()), ('ｇuest', NULL, now()),"
        " ('y', 'y@example.com', now()), ('z', 'Y@EXAMPLE．COM', now()), ('ok', NULL, now())",
    )
    before = await rows(url, "SELECT * FROM users ORDER BY id")

    with pytest.raises(KeyCollisions) as refused:
        await migrate.upgrade(url)

    report = str(refused.value)
    assert "2 groups of users share a name or an email as the service compares them" in report
    assert report.endswith(
        "\n  name 'guest': users [1, 2] ('guest', 'ｇuest')"
        "\n  email 'y@example.com': users [3, 4] ('y@example.com', 'Y@EXAMPLE．COM')"
    )
    assert await migrate.current(url) == "0006"
    assert await rows(url, "SELECT * FROM users ORDER BY id") == before
