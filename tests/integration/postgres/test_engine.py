"""create_engine: the URLs it accepts and the session settings it gives every connection."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from user_core import PageRequest, UserDraft
from user_core.testing.contract import T0
from user_postgres import ConnectionPool, EngineOptions, PostgresUserRepository, create_engine
from user_postgres.engine import asyncpg_url

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/users", "postgresql+asyncpg://u:p@db:5432/users"),
        ("postgresql://u@db/users", "postgresql+asyncpg://u@db/users"),
        ("postgresql+asyncpg://u@db/users", "postgresql+asyncpg://u@db/users"),
        (
            "postgresql://u@/users?host=/run/postgresql",
            "postgresql+asyncpg://u@/users?host=%2Frun%2Fpostgresql",
        ),
        (
            "postgresql://u@db/users?sslmode=verify-full",
            "postgresql+asyncpg://u@db/users?ssl=verify-full",
        ),
    ],
)
def test_postgres_urls_are_normalised_for_asyncpg(given: str, expected: str) -> None:
    assert asyncpg_url(given) == make_url(expected)


@pytest.mark.parametrize("url", ["mysql://u@db/users", "postgresql+psycopg://u@db/users"])
def test_other_drivers_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        asyncpg_url(url)


@pytest.mark.parametrize(
    "options",
    [
        {"pool_size": 0},
        {"max_overflow": -1},
        {"pool_timeout": 0},
        {"connect_timeout": -1},
        {"statement_timeout_ms": 0},
    ],
)
def test_nonsensical_options_are_refused(options: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        EngineOptions(**options)  # type: ignore[arg-type]


async def test_every_connection_carries_the_name_and_statement_timeout(database_url: str) -> None:
    url = database_url.replace("postgresql://", "postgres://", 1)
    options = EngineOptions(application_name="engine-test", statement_timeout_ms=1234)
    engine, pool = create_engine(url, options), ConnectionPool(url, options)
    try:
        async with engine.connect() as connection:
            settings = await connection.execute(
                text("SELECT current_setting(:name), current_setting(:timeout)"),
                {"name": "application_name", "timeout": "statement_timeout"},
            )
            assert tuple(settings.one()) == ("engine-test", "1234ms")
        pooled = await pool.checkout()
        try:
            assert tuple(
                await pooled.fetchrow(
                    "SELECT current_setting('application_name'), "
                    "current_setting('statement_timeout')"
                )
            ) == ("engine-test", "1234ms")
        finally:
            pool.checkin(pooled)
    finally:
        await engine.dispose()
        await pool.close()


async def test_pgbouncer_mode_prepares_nothing_that_outlives_a_statement(
    database_url: str,
) -> None:
    options = EngineOptions(pgbouncer_transaction_mode=True)
    engine, pool = create_engine(database_url, options), ConnectionPool(database_url, options)
    repository = PostgresUserRepository(pool)
    try:
        for n in range(3):
            await repository.add(UserDraft.parse(name=f"user {n}"), T0)
            await repository.list(PageRequest(name=f"user {n}"))
        async with engine.connect() as connection:
            cached = await connection.scalar(
                text("SELECT count(*) FROM pg_prepared_statements WHERE NOT from_sql")
            )
        page = await repository.list(PageRequest(with_total=True))
    finally:
        await engine.dispose()
        await pool.close()

    assert page.total == 3
    assert cached is not None
    assert cached <= 1  # at most the statement counting them, still being described
