"""Alembic's entry point: runs the revisions in ``versions/`` on one connection.

Called by :mod:`user_postgres.migrate` with a connection in ``config.attributes``, or by the
``alembic`` command line, which connects to ``-x url=…``, else ``sqlalchemy.url``, else the
``USER_SERVICE_DATABASE_URL`` environment variable.
"""

from __future__ import annotations

import asyncio
import logging.config
import os

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from user_postgres.engine import asyncpg_url
from user_postgres.migrate import ADVISORY_LOCK_KEY
from user_postgres.tables import metadata

_LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=ADVISORY_LOCK_KEY)

config = context.config


def run_migrations(connection: Connection) -> None:
    """Migrate in one transaction, holding the migration lock for all of it."""
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        # Replicas starting together queue here; once one commits, the next reads the version
        # it left and finds nothing to do.
        connection.execute(_LOCK)
        context.run_migrations()


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("USER_SERVICE_DATABASE_URL")
    )
    if not url:
        raise SystemExit("no database: pass -x url=… or set USER_SERVICE_DATABASE_URL")
    return url


async def _run_on_own_connection() -> None:
    engine = create_async_engine(asyncpg_url(_url()), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def _main() -> None:
    if config.config_file_name is not None and config.attributes.get("configure_logger", True):
        logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        context.configure(
            url=str(asyncpg_url(_url())), target_metadata=metadata, literal_binds=True
        )
        with context.begin_transaction():
            context.execute(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is None:
        asyncio.run(_run_on_own_connection())
    else:
        run_migrations(connection)


_main()
