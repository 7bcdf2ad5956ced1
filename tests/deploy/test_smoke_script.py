"""The chart's functional smoke (``files/smoke.py``, which ``helm test`` runs) against the real
server, and the libpq-variable wiring the chart uses through the Pooler, on a real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy.engine import make_url

from e2e.server import RunningServer, start_server
from tests.deploy.chart import CHART

SMOKE: Final = CHART / "files" / "smoke.py"


def run_smoke(base_url: str) -> subprocess.CompletedProcess[str]:
    # Like the test pod: the script alone, with nothing but the standard library.
    return subprocess.run(
        [sys.executable, "-I", str(SMOKE), base_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def serving(environment: dict[str, str], log: Path) -> Iterator[RunningServer]:
    server = start_server(environment, log)
    try:
        yield server
    finally:
        status = server.stop()
        assert status == 0, log.read_text()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """The service on the test's own database, given by URL as CloudNativePG's ``uri`` key."""
    yield from serving({"USER_SERVICE_DATABASE_URL": database_url}, tmp_path / "server.log")


@pytest.fixture
def server_on_libpq_variables(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """The service as the chart starts it through the Pooler: a URL with neither credentials nor
    database, and ``PGUSER``, ``PGPASSWORD``, ``PGDATABASE`` from the secret's keys."""
    url = make_url(database_url)
    bare = url.set(username=None, password=None, database=None)
    environment = {
        "USER_SERVICE_DATABASE_URL": bare.render_as_string(hide_password=False),
        "USER_SERVICE_PGBOUNCER_TRANSACTION_MODE": "true",
        "USER_SERVICE_STATEMENT_TIMEOUT_MS": "0",
        "PGUSER": url.username or "",
        "PGPASSWORD": url.password or "",
        "PGDATABASE": url.database or "",
    }
    assert environment["PGUSER"]
    assert environment["PGDATABASE"]
    yield from serving(environment, tmp_path / "server.log")


def test_smoke_passes_against_the_real_server(server: RunningServer) -> None:
    result = run_smoke(server.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "ok   GET /readyz (200)",
        "ok   POST /users (201)",
        "ok   GET /users/1 (200)",
        "ok   POST /users with a taken name (409)",
        "ok   DELETE /users/1 (204)",
        "ok   GET /users/1 after delete (404)",
        f"smoke test passed against {server.base_url}",
    ]


def test_service_connects_with_the_pooler_wiring(server_on_libpq_variables: RunningServer) -> None:
    result = run_smoke(server_on_libpq_variables.base_url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_smoke_fails_when_the_service_does_not_answer() -> None:
    result = subprocess.run(
        [sys.executable, "-I", str(SMOKE), "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env={"SMOKE_READY_TIMEOUT_SECONDS": "1"},
    )
    assert result.returncode == 1
    assert "FAIL GET /readyz: not ready" in result.stderr
