"""user_postgres: the PostgreSQL adapter of user_core (SQLAlchemy Core on asyncpg).

- :class:`PostgresUserRepository`: the :class:`~user_core.ports.UserRepository` port, on a
  :class:`ConnectionPool` of asyncpg connections.
- :class:`EngineOptions`: how connections behave; :func:`create_engine`: SQLAlchemy's engine, for
  migrations.
- :mod:`user_postgres.migrate`: ``upgrade``, ``downgrade``, ``is_at_head``, … of the Alembic
  revisions in :mod:`user_postgres.migrations` (the repository's `migrations/` folder).
- :class:`EmbeddedPostgres`: a real server from a wheel, for development and tests.
- :mod:`user_postgres.tables`: the schema.
- :mod:`user_postgres.keys`: the unique fields' stored keys: :class:`KeyCollisions` reports every
  group of users that would share one.
- :mod:`user_postgres.execution`: the one way the repository runs a statement (:class:`Executor`).
- :class:`PoolStatus`, :class:`StatementObserver` and :data:`OPERATION_OPTION`: what metrics and
  traces read (the pool's use, each statement as it starts and ends, and the operation each
  statement names in its execution options).
"""

from user_postgres.embedded import EmbeddedPostgres
from user_postgres.engine import EngineOptions, create_engine
from user_postgres.execution import Executor, StatementObserver
from user_postgres.keys import KeyCollision, KeyCollisions
from user_postgres.pool import ConnectionPool, PoolClosed, PoolStatus, PoolTimeout
from user_postgres.repository import PostgresUserRepository
from user_postgres.statements import OPERATION_OPTION

__all__ = [
    "OPERATION_OPTION",
    "ConnectionPool",
    "EmbeddedPostgres",
    "EngineOptions",
    "Executor",
    "KeyCollision",
    "KeyCollisions",
    "PoolClosed",
    "PoolStatus",
    "PoolTimeout",
    "PostgresUserRepository",
    "StatementObserver",
    "create_engine",
]
