"""Real PostgreSQL in tests, quickly: a throwaway server, fresh migrated databases, empty
repositories on demand.

Migrating takes a while and cloning a database does not, so :class:`ScratchDatabases` migrates a
template database once and gives every test its own copy (``CREATE DATABASE … TEMPLATE …``).
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from user_postgres import migrate
from user_postgres.embedded import EmbeddedPostgres
from user_postgres.engine import EngineOptions, create_engine
from user_postgres.pool import ConnectionPool
from user_postgres.repository import PostgresUserRepository

_ADMIN_OPTIONS = EngineOptions(pool_size=1, max_overflow=0, statement_timeout_ms=None)
_TEST_OPTIONS = EngineOptions(pool_size=5, max_overflow=5, application_name="user-service-tests")
# Durability is worthless in a throwaway server and costs most of the time of CREATE DATABASE.
_FAST_AND_UNSAFE = (
    "ALTER SYSTEM SET fsync = off",
    "ALTER SYSTEM SET synchronous_commit = off",
    "ALTER SYSTEM SET full_page_writes = off",
    "SELECT pg_reload_conf()",
)


@contextmanager
def temporary_server() -> Iterator[str]:
    """An embedded PostgreSQL in a temporary directory, without fsync; yields its URL.

    The server stops and its directory is removed when the block ends, and also if this process
    dies first, killed included: a watchdog process notices and does it. Not for use inside a
    running event loop (it runs one to configure the server).
    """
    scratch = Path(tempfile.mkdtemp(prefix="user-service-tests-"))
    pgdata = scratch / "pgdata"
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "user_postgres.orphan_watchdog", pgdata, scratch],
        stdin=subprocess.PIPE,
        start_new_session=True,  # out of reach of signals sent to this process group
    )
    try:
        with EmbeddedPostgres(pgdata, database="postgres") as server:
            asyncio.run(_run_each(server.url, _FAST_AND_UNSAFE))
            yield server.url
    finally:
        assert watchdog.stdin is not None
        watchdog.stdin.close()  # the server has stopped: the watchdog only removes the directory
        watchdog.wait(timeout=30)


class ScratchDatabases:
    """Throwaway databases on the server at ``server_url``, whose user may create databases.

    Names start with a random prefix, so that test runs sharing a server never meet.
    """

    def __init__(self, server_url: str) -> None:
        self._server_url = make_url(server_url)
        self._prefix = f"user_service_test_{secrets.token_hex(4)}"
        self._template = f"{self._prefix}_template"
        self._created: list[str] = []
        self._count = 0

    async def migrate_template(self) -> None:
        """Create the template database and migrate it to head; call once, before :meth:`create`."""
        await self._admin(f'CREATE DATABASE "{self._template}"')
        self._created.append(self._template)
        await migrate.upgrade(self.url_of(self._template))

    async def create(self, *, migrated: bool = True) -> str:
        """A new database's URL: a copy of the migrated template, or a blank database."""
        self._count += 1
        name = f"{self._prefix}_{self._count}"
        template = self._template if migrated else "template0"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._created.append(name)
        return self.url_of(name)

    async def drop(self, url: str) -> None:
        """Drop a database made here, disconnecting whoever is still connected to it."""
        name = make_url(url).database
        assert name in self._created, f"{name} was not made here"
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.remove(name)

    async def drop_all(self) -> None:
        """Drop every database made here, the template last."""
        for name in reversed(self._created):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.clear()

    def url_of(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        url: URL = self._server_url.set(database=database)
        return url.render_as_string(hide_password=False)

    async def _admin(self, statement: str) -> None:
        # CREATE and DROP DATABASE cannot run in a transaction, nor while connected to their
        # database: connect to the server's default database, in autocommit mode.
        engine = create_engine(self._server_url, _ADMIN_OPTIONS)
        try:
            async with engine.execution_options(
                isolation_level="AUTOCOMMIT"
            ).connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()


@asynccontextmanager
async def empty_repository(database_url: str) -> AsyncIterator[PostgresUserRepository]:
    """A repository on a migrated database emptied of users and idempotency keys, ids from 1.

    Cheap enough to call once per Hypothesis example; the pool lives as long as the block, in
    the running event loop.
    """
    await _run_each(database_url, ("TRUNCATE users, idempotency_keys RESTART IDENTITY",))
    pool = ConnectionPool(database_url, _TEST_OPTIONS)
    try:
        yield PostgresUserRepository(pool)
    finally:
        await pool.close()


async def _run_each(url: str, statements: tuple[str, ...]) -> None:
    engine = create_engine(url, _ADMIN_OPTIONS)
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
