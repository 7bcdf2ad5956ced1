"""The two servers a benchmark runs: the service as deployed, and the bare reference application."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from benchmarks.processes import pin_tree
from e2e.load.k6 import ROOT
from e2e.server import RunningServer, free_port, start_server

POOL_SIZE = 20
"""Database connections of the service and of the reference, alike."""


def start_service(
    stack: ExitStack, database_url: str, log: Path, *, workers: int, cpus: set[int] | None
) -> RunningServer:
    """``user-service serve`` with every feature on as deployed: metrics, the access log (as
    JSON lines, to ``log``), request ids, problem errors, ETags; stopped with ``stack``."""
    environment = {
        "USER_SERVICE_DATABASE_URL": database_url,
        "USER_SERVICE_LOG_LEVEL": "info",  # the access log is an info line: on, as deployed
        # As many connections as the reference's pool, and no overflow: SQLAlchemy closes an
        # overflow connection as soon as it is returned, so more concurrent requests than
        # pool_size open and close a PostgreSQL connection (a backend process) per request.
        "USER_SERVICE_POOL_SIZE": str(POOL_SIZE),
        "USER_SERVICE_POOL_MAX_OVERFLOW": "0",
    }
    arguments = ["--workers", str(workers)] if workers > 1 else []
    server = start_server(environment, log, *arguments)
    stack.callback(server.stop)
    pin_tree(server.process.pid, cpus)
    return server


def start_reference(
    stack: ExitStack, database_url: str, log: Path, *, cpus: set[int] | None
) -> RunningServer:
    """The reference application (:mod:`benchmarks.reference`) under uvicorn, as the service
    runs (uvloop, httptools), without an access log; stopped with ``stack``."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "benchmarks.reference:create_app",
        "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip
    environment = {
        **os.environ,
        "USER_SERVICE_DATABASE_URL": database_url,
        "REFERENCE_POOL_SIZE": str(POOL_SIZE),
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
    reference = RunningServer(process, f"http://127.0.0.1:{port}", log)
    stack.callback(reference.stop)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{reference.base_url}/readyz", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the reference did not start:\n{log.read_text()}") from None
            time.sleep(0.1)
    pin_tree(process.pid, cpus)
    return reference
