"""Stops a temporary PostgreSQL server whose owner died without stopping it.

Started by :func:`user_postgres.testing.temporary_server` in a session of its own, with a pipe as
standard input whose other end the owner holds. The pipe closes however the owner ends, killed
included; this then stops the server if it still runs and removes its scratch directory. After
an orderly stop there is nothing left to do but the removal.

Usage: ``python -m user_postgres.orphan_watchdog PGDATA SCRATCH_DIR``
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

_SHUTDOWN_WAIT_SECONDS = 10


def main(pgdata: Path, scratch: Path) -> None:
    """Wait for standard input to close, then stop the server and remove ``scratch``."""
    sys.stdin.buffer.read()
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):  # no server, or a stale file
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)  # a "fast" shutdown
    deadline = time.monotonic() + _SHUTDOWN_WAIT_SECONDS
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
