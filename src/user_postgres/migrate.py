"""Schema migrations: the calls that run the Alembic revisions of :mod:`user_postgres.migrations`.

The revisions live in the repository's ``migrations/`` folder, which the wheel (and so the image)
carries as the package ``user_postgres.migrations``; Alembic finds them through that package
wherever it is installed. The repository's ``alembic.ini`` points the ``alembic`` command line at
the same folder.

Every run takes the transaction-level advisory lock :data:`ADVISORY_LOCK_KEY` and migrates inside
that one transaction, so replicas that start at once wait for each other instead of racing; the
ones that come after find the schema at head and do nothing. Any session can see who holds it::

    SELECT pid, granted FROM pg_locks
    WHERE locktype = 'advisory' AND classid = 1970496882 AND objid = 762541667;

Importing this module also teaches Alembic's autogenerate (``make migration``) and its comparison
(the drift test) the named CHECK constraints of :mod:`user_postgres.tables`, which Alembic itself
does not compare: see :func:`compare_check_constraints`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache
from importlib.resources import files
from typing import Final, TypeVar
from weakref import WeakKeyDictionary

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from alembic.autogenerate import comparators
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Connection, MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from user_postgres import keys
from user_postgres.engine import EngineOptions, create_engine
from user_postgres.error_translation import TranslateErrors
from user_postgres.execution import Executor
from user_postgres.keys import Rekeyed
from user_postgres.pool import ConnectionPool

ADVISORY_LOCK_KEY: Final = 0x757365722D737663
"""The ``pg_advisory_xact_lock`` key that serialises migrations: the bytes of ``user-svc``."""

DEFAULT_LEGACY_TIME_ZONE: Final = "UTC"
"""The time zone the Go service's timestamps are read in, unless one is named."""

SCRIPT_LOCATION: Final = str(files("user_postgres.migrations"))
"""Where Alembic finds ``env.py`` and ``versions/``: the installed ``user_postgres.migrations``."""

_OPTIONS: Final = EngineOptions(
    pool_size=1,
    max_overflow=0,
    statement_timeout_ms=None,  # rewriting a large table may take long
    application_name="user-service-migrations",
)
_T = TypeVar("_T")
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_CURRENT_HEADS: Final = text("SELECT version_num FROM alembic_version")
_COMMAND_LOCKS: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def alembic_config(
    connection: Connection | None = None, legacy_time_zone: str = DEFAULT_LEGACY_TIME_ZONE
) -> Config:
    """An Alembic configuration for this package's revisions, running on ``connection``.

    ``legacy_time_zone``: the time zone of the original Go service's ``timestamp`` values, for
    the revision that adopts its database (and gives it back).
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["legacy_time_zone"] = legacy_time_zone
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision's id."""
    revision = _scripts().get_current_head()
    assert revision is not None, "the package ships at least one revision"
    return revision


async def upgrade(
    database: str | AsyncEngine,
    revision: str = "head",
    *,
    legacy_time_zone: str = DEFAULT_LEGACY_TIME_ZONE,
) -> None:
    """Apply the revisions up to ``revision`` to the database at this URL (or of this engine).

    Safe to call from many processes at once (see the module's documentation). A database of
    the original Go service is adopted in place, its timestamps read in ``legacy_time_zone``
    (revision 0001); names equal ignoring case among its users, or values the service refuses,
    raise :class:`~user_postgres.keys.KeyCollisions` and change nothing.
    """
    await _run(
        database,
        lambda connection: command.upgrade(alembic_config(connection, legacy_time_zone), revision),
    )


async def downgrade(
    database: str | AsyncEngine,
    revision: str = "-1",
    *,
    legacy_time_zone: str = DEFAULT_LEGACY_TIME_ZONE,
) -> None:
    """Undo revisions down to ``revision``: by default the last one; ``"base"`` undoes all.

    Below revision 0001, an adopted Go service's database is given back in its own schema.
    """
    await _run(
        database,
        lambda connection: command.downgrade(
            alembic_config(connection, legacy_time_zone), revision
        ),
    )


async def rekey(database: str | AsyncEngine) -> Rekeyed:
    """Recompute every stored key by the service's own rule (see :func:`user_postgres.keys.rekey`).

    One transaction under the migration lock, with writes to ``users`` locked out; raises
    :class:`~user_postgres.keys.KeyCollisions`, having changed nothing, when two users would
    share a key.
    """

    def run(connection: Connection) -> Rekeyed:
        with connection.begin():
            connection.execute(_LOCK, {"key": ADVISORY_LOCK_KEY})
            return keys.rekey(connection)

    return await _run(database, run)


async def current(database: str | AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` before the first one."""
    heads = await _run(database, _current_heads)
    return heads[0] if heads else None


async def is_at_head(database: ConnectionPool | AsyncEngine | AsyncConnection) -> bool:
    """Whether the schema is exactly at :func:`head`: for readiness checks, one or two cheap
    queries (on a pool: a connection of the repository's, so a check tells whether requests
    can get one).

    Raises :class:`~user_core.errors.StorageUnavailable` when the database cannot answer.
    """
    with TranslateErrors():
        if isinstance(database, ConnectionPool):
            heads = await _pooled_heads(database)
        elif isinstance(database, AsyncConnection):
            heads = await database.run_sync(_current_heads)
        else:
            async with database.connect() as connection:
                heads = await connection.run_sync(_current_heads)
    return heads == (head(),)


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return MigrationContext.configure(connection).get_current_heads()


async def _pooled_heads(pool: ConnectionPool) -> tuple[str, ...]:
    # What Alembic's get_current_heads reads, in one query: no table means no revision yet.
    try:
        rows = await Executor(pool).fetch(_CURRENT_HEADS, {})
    except asyncpg.UndefinedTableError:
        return ()
    return tuple(row[0] for row in rows)


async def _run(database: str | AsyncEngine, action: Callable[[Connection], _T]) -> _T:
    engine = create_engine(database, _OPTIONS) if isinstance(database, str) else database
    try:
        async with _one_at_a_time(), engine.connect() as connection:
            return await connection.run_sync(action)
    finally:
        if engine is not database:
            await engine.dispose()


def _one_at_a_time() -> asyncio.Lock:
    # Alembic keeps the running command's context in module globals (alembic.context,
    # alembic.op), so two commands interleaved on one event loop would use each other's: one
    # at a time per event loop here, while the advisory lock serialises processes.
    loop = asyncio.get_running_loop()
    lock = _COMMAND_LOCKS.get(loop)
    if lock is None:
        lock = _COMMAND_LOCKS[loop] = asyncio.Lock()
    return lock


@comparators.dispatch_for("table")
def compare_check_constraints(  # noqa: PLR0917  (Alembic calls its comparators positionally)
    autogen_context: AutogenContext,
    modify_table_ops: ops.ModifyTableOps,
    schema: str | None,
    table_name: str,
    database_table: Table | None,
    declared_table: Table | None,
) -> None:
    """Create the declared named CHECK constraints the database lacks; drop the undeclared ones.

    Constraints are matched by name only: a rule that changes under the same name (a new limit in
    ``tables.length_check``) needs the old constraint dropped and the new one created by hand.
    """
    if database_table is None or declared_table is None or autogen_context.inspector is None:
        return  # a new table is created with its constraints; a dropped one takes them along
    existing = {
        str(found["name"]): found["sqltext"]
        for found in autogen_context.inspector.get_check_constraints(table_name, schema)
    }
    declared = {
        str(constraint.name): constraint
        for constraint in declared_table.constraints
        if isinstance(constraint, CheckConstraint) and constraint.name is not None
    }
    for name in sorted(declared.keys() - existing.keys()):
        modify_table_ops.ops.append(ops.CreateCheckConstraintOp.from_constraint(declared[name]))
    for name in sorted(existing.keys() - declared.keys()):
        # Dropped as it stands, so that the downgrade can create it again.
        standing = CheckConstraint(text(existing[name]), name=name)
        Table(table_name, MetaData(), standing, schema=schema)
        modify_table_ops.ops.append(ops.DropConstraintOp.from_constraint(standing))
