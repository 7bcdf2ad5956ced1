"""SIGTERM in the middle of a burst: every request already taken is answered, and the exit is 0.

The requests are held in flight on purpose: the test locks the ``users`` table, so each of them
waits inside the server (on the lock, or for a pooled connection) until the lock is released,
which happens after SIGTERM. The server must stop accepting, finish all of them within its grace
period, close its pool and exit 0.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from e2e.server import RunningServer, start_server
from user_postgres import create_engine
from user_postgres.testing import ScratchDatabases

pytestmark = pytest.mark.anyio

BURST = 200
SEEDED = 20
IN_FLIGHT_TIMEOUT = 20.0


@pytest.fixture
def database_url(scratch_databases: ScratchDatabases) -> Iterator[str]:
    url = asyncio.run(scratch_databases.create())
    yield url
    asyncio.run(scratch_databases.drop(url))


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """One worker whose requests may wait long for the lock and for connections."""
    environment = {
        "USER_SERVICE_DATABASE_URL": database_url,
        "USER_SERVICE_POOL_TIMEOUT_SECONDS": "30",
        "USER_SERVICE_STATEMENT_TIMEOUT_MS": "30000",
        "USER_SERVICE_SHUTDOWN_GRACE_SECONDS": "20",
    }
    running = start_server(environment, tmp_path / "server.log")
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def in_flight(base_url: str) -> float:
    metrics = httpx.get(f"{base_url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(metrics):
        if family.name == "user_service_http_requests_in_flight":
            return family.samples[0].value
    raise AssertionError("no in-flight gauge")


async def test_sigterm_during_a_burst_loses_no_request(
    server: RunningServer, database_url: str
) -> None:
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
        ids = [
            (await client.post("/users", json={"name": f"seed-{n}"})).json()["id"]
            for n in range(SEEDED)
        ]
        requests = [
            client.get(f"/users/{ids[n % SEEDED]}")
            if n % 3 == 0
            else client.get("/users", params={"limit": 5, "offset": n % SEEDED})
            if n % 3 == 1
            else client.post("/users", json={"name": f"burst-{n}"})
            for n in range(BURST)
        ]
        locker = create_engine(database_url)
        try:
            async with locker.connect() as connection:
                await connection.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
                burst = [asyncio.ensure_future(request) for request in requests]
                deadline = time.monotonic() + IN_FLIGHT_TIMEOUT
                # The burst plus the scrape asking.
                while await asyncio.to_thread(in_flight, server.base_url) < BURST + 1:
                    assert time.monotonic() < deadline, "the burst never got in flight"
                    await asyncio.sleep(0.1)

                server.process.send_signal(signal.SIGTERM)
                await asyncio.sleep(1.0)  # the server stops accepting while the burst waits
                assert server.process.poll() is None, "the server quit with requests in flight"
                with pytest.raises(httpx.ConnectError):
                    await asyncio.to_thread(httpx.get, f"{server.base_url}/readyz", timeout=5)
                await connection.rollback()  # releases the lock

            responses = await asyncio.gather(*burst)
        finally:
            await locker.dispose()

    statuses = sorted({response.status_code for response in responses})
    assert statuses == [200, 201], [r.text for r in responses if r.status_code >= 300][:3]
    assert len(responses) == BURST
    status = await asyncio.to_thread(server.process.wait, 30)
    log = server.log.read_text()
    assert status == 0, log
    assert "timeout graceful shutdown exceeded" not in log
