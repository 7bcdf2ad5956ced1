"""What taking a connection from the pool and giving it back costs, in CPU microseconds.

The repository borrows a connection for every statement or transaction it runs
(:class:`user_postgres.Executor`). This measures, on one embedded PostgreSQL (or
``--database-url``), the ways it has done so, one after another in the same process, with
nothing run on the connection::

    .venv/bin/python -m benchmarks.checkout

- ``engine.connect()``: SQLAlchemy's ``AsyncConnection``, what the repository used first;
- SQLAlchemy's pool without those wrappers (a greenlet each way), what it used next;
- asyncpg's pool with a no-op reset, what it used next (issue 20, first passes);
- :meth:`user_postgres.Executor.connection` on a :class:`user_postgres.ConnectionPool`, the
  service's own pool of asyncpg connections, what it uses now (issue 20);
- asyncpg's pool with its default reset, which runs a query on every release.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import uvloop
from sqlalchemy.engine import make_url
from sqlalchemy.util import greenlet_spawn

from user_postgres import ConnectionPool, EmbeddedPostgres, Executor, create_engine


async def _cpu_microseconds(checkouts: int, one: Callable[[], Awaitable[None]]) -> float:
    for _ in range(100):  # warm up: connections opened, code paths taken once
        await one()
    started = time.process_time()
    for _ in range(checkouts):
        await one()
    return (time.process_time() - started) / checkouts * 1e6


async def measure(database_url: str, checkouts: int) -> dict[str, float]:
    """CPU microseconds per checkout and return, by way."""
    engine = create_engine(database_url)
    connections = ConnectionPool(database_url)
    executor = Executor(connections)
    plain_url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    pool = await asyncpg.create_pool(plain_url, min_size=1, max_size=1)
    quiet_pool = await asyncpg.create_pool(plain_url, min_size=1, max_size=1, reset=_no_reset)

    async def through_engine() -> None:
        async with engine.connect():
            pass

    async def through_sqlalchemy_pool() -> None:
        pooled = await greenlet_spawn(engine.sync_engine.pool.connect)
        await greenlet_spawn(pooled.close)

    async def through_quiet_asyncpg_pool() -> None:
        async with quiet_pool.acquire():
            pass

    async def through_executor() -> None:
        async with executor.connection():
            pass

    async def through_asyncpg_pool() -> None:
        async with pool.acquire():
            pass

    try:
        return {
            "engine.connect()": await _cpu_microseconds(checkouts, through_engine),
            "SQLAlchemy's pool": await _cpu_microseconds(checkouts, through_sqlalchemy_pool),
            "asyncpg pool, no reset": await _cpu_microseconds(
                checkouts, through_quiet_asyncpg_pool
            ),
            "Executor.connection()": await _cpu_microseconds(checkouts, through_executor),
            "asyncpg pool, its reset": await _cpu_microseconds(checkouts, through_asyncpg_pool),
        }
    finally:
        await pool.close()
        await quiet_pool.close()
        await connections.close()
        await engine.dispose()


async def _no_reset(_connection: object) -> None:
    return None


def main(argv: Sequence[str] | None = None) -> None:
    """Print the cost of each way."""
    parser = argparse.ArgumentParser(prog="benchmarks.checkout", description=__doc__)
    parser.add_argument("--database-url", default="", help="default: embedded PostgreSQL")
    parser.add_argument("--checkouts", type=int, default=20000)
    arguments = parser.parse_args(argv)
    with ExitStack() as stack:
        url = arguments.database_url
        if not url:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="checkout-")))
            url = stack.enter_context(EmbeddedPostgres(scratch / "pgdata")).url
        figures = uvloop.run(measure(url, arguments.checkouts))
    for way, microseconds in figures.items():
        print(f"{way:<28} {microseconds:6.1f} µs CPU per checkout and return")


if __name__ == "__main__":
    main()
