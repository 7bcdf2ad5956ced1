"""With two worker processes, ``/metrics`` counts every worker's requests, whichever answers.

prometheus-client's multiprocess mode, set up by ``user-service serve --workers 2`` itself: each
run gets a fresh directory for the shared values (found here through ``TMPDIR``), removed when
the server stops.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from e2e.server import RunningServer, start_server
from user_postgres.testing import ScratchDatabases

REQUESTS = 200
SCRAPES = 8
ACCESS_KEYS = {"event", "level", "timestamp", "logger", "method", "route", "status"} | {
    "duration_ms",
    "request_id",
}


@pytest.fixture(scope="module")
def temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's ``TMPDIR``, where it makes its metrics directory."""
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def two_workers(
    scratch_databases: ScratchDatabases,
    tmp_path_factory: pytest.TempPathFactory,
    temporary_directory: Path,
) -> Iterator[RunningServer]:
    """``user-service serve --workers 2`` on a database of its own, logging at info."""
    database_url = asyncio.run(scratch_databases.create())
    log = tmp_path_factory.mktemp("workers") / "server.log"
    environment = {
        "USER_SERVICE_DATABASE_URL": database_url,
        "USER_SERVICE_LOG_LEVEL": "info",
        "TMPDIR": str(temporary_directory),
    }
    running = start_server(environment, log, "--workers", "2")
    try:
        # One worker answers /readyz as soon as it is up; wait for the other too.
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete.") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield running
    finally:
        status = running.stop()
        asyncio.run(scratch_databases.drop(database_url))
    assert status == 0, f"the server exited with {status}:\n{log.read_text()}"
    assert list(temporary_directory.iterdir()) == [], "the metrics directory was left behind"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def livez_count(metrics: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    key = frozenset({"method": "GET", "route": "/livez", "status": "200"}.items())
    return metrics.get(("user_service_http_requests_total", key), 0)


def answered_by_each_worker(directory: Path) -> dict[str, float]:
    """How many ``/livez`` requests each worker process counted, from its own file."""
    counts = {}
    for path in directory.glob("counter_*.db"):
        # prometheus_client leaves merge() unannotated.
        merged = MultiProcessCollector.merge([str(path)], accumulate=False)  # type: ignore[no-untyped-call]
        counts[path.stem.removeprefix("counter_")] = livez_count(
            {
                (sample.name, frozenset(sample.labels.items())): sample.value
                for metric in merged
                for sample in metric.samples
            }
        )
    return counts


def test_counts_add_up_across_two_workers(
    two_workers: RunningServer, temporary_directory: Path
) -> None:
    def livez(_: int) -> int:
        # A connection of its own each time, so that either worker may accept it.
        return httpx.get(f"{two_workers.base_url}/livez", timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(livez, range(REQUESTS))) == {200}

    (directory,) = temporary_directory.glob("user-service-metrics-*")
    per_worker = answered_by_each_worker(directory)
    assert len(per_worker) == 2, per_worker
    assert all(count > 0 for count in per_worker.values()), per_worker
    assert sum(per_worker.values()) == REQUESTS

    scraped = [
        samples(httpx.get(f"{two_workers.base_url}/metrics", timeout=10).text)
        for _ in range(SCRAPES)
    ]
    assert [livez_count(metrics) for metrics in scraped] == [REQUESTS] * SCRAPES


def test_live_gauges_are_summed_over_the_workers(two_workers: RunningServer) -> None:
    time.sleep(1.5)  # each worker stores its pool's state every second

    metrics = samples(httpx.get(f"{two_workers.base_url}/metrics", timeout=10).text)

    def pool(state: str) -> float:
        return metrics["user_service_db_pool_connections", frozenset({("state", state)})]

    assert pool("size") == 2 * 20  # two workers, each with the default pool of 20
    assert pool("checked_out") == 0
    assert metrics["user_service_http_requests_in_flight", frozenset()] == 1  # this scrape
    (build_info,) = [key for key in metrics if key[0] == "user_service_build_info"]
    assert metrics[build_info] == 1


def test_every_line_the_server_writes_is_json(two_workers: RunningServer) -> None:
    httpx.get(f"{two_workers.base_url}/livez", headers={"X-Request-ID": "find-me"}, timeout=10)
    deadline = time.monotonic() + 5  # access lines are flushed within a tenth of a second
    while "find-me" not in two_workers.log.read_text():
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.05)

    lines: list[dict[str, Any]] = [
        json.loads(line) for line in two_workers.log.read_text().splitlines()
    ]

    (access,) = [line for line in lines if line.get("request_id") == "find-me"]
    assert set(access) == ACCESS_KEYS
    assert (access["method"], access["route"], access["status"]) == ("GET", "/livez", 200)
    assert any(line["event"].startswith("Started server process") for line in lines)
