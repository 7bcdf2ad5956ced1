"""The Compose stack, brought up for real: ``docker compose up --build``, health, the original
service's functional scenario, a short k6 load run, Prometheus scraping with every dashboard query
answered, a database outage and recovery, then ``docker compose down -v``, also when a step fails.

Compose is the v2 plugin pinned in the Makefile (.tools/bin/docker-compose); the base images are
the ones ``scripts/base-images.sh`` chose; host ports are chosen free at run time. Grafana is not
started: it has no image here (no registry, no Debian package).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from e2e.containers.docker import BASE_IMAGES, DOCKER, ROOT, extra_ca, unique
from e2e.load.k6 import run_k6
from e2e.server import free_port

COMPOSE = ROOT / ".tools" / "bin" / "docker-compose"
DASHBOARD = ROOT / "deploy" / "grafana" / "user-service-dashboard.json"
SERVICES = ["postgres", "user-service", "prometheus"]
UP_TIMEOUT = 1200
QUERY_TIMEOUT = 120.0


class Stack:
    """One Compose project of this test's own, on free host ports."""

    def __init__(self) -> None:
        self.project = unique("user-service-e2e")
        self.service_port = free_port()
        self.prometheus_port = free_port()
        self.environment = {
            **os.environ,
            "USER_SERVICE_HOST_PORT": str(self.service_port),
            "PROMETHEUS_HOST_PORT": str(self.prometheus_port),
            "POSTGRES_HOST_PORT": str(free_port()),
            "USER_SERVICE_EXTRA_CA": extra_ca(),
            "DOCKER_BUILDKIT": "1",
            # Compose's own look-ups of the CLI (for `build`) find Debian's client first.
            "PATH": f"{Path(DOCKER).parent}{os.pathsep}{os.environ['PATH']}",
        }
        self.base_url = f"http://127.0.0.1:{self.service_port}"
        self.prometheus = f"http://127.0.0.1:{self.prometheus_port}"

    def compose(self, *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = [str(COMPOSE), "--project-name", self.project, "--env-file", str(BASE_IMAGES),
                   "--profile", "monitoring", *arguments]  # fmt: skip
        return subprocess.run(
            command, cwd=ROOT, env=self.environment, capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """``up --build --wait`` (health checks passed), ``down -v`` afterwards, whatever happened."""
    assert COMPOSE.exists(), f"no {COMPOSE}: run make tools"
    stack = Stack()
    try:
        started = time.monotonic()
        up = stack.compose(
            "up", "--build", "--pull", "never", "--detach", "--wait", "--wait-timeout", "600",
            *SERVICES, timeout=UP_TIMEOUT,
        )  # fmt: skip
        logs = stack.compose("logs", "--tail", "30").stdout if up.returncode else ""
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-5000:] + logs
        print(f"compose up --build --wait: {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        down = stack.compose("down", "--volumes", "--remove-orphans", "--timeout", "30")
        assert down.returncode == 0, down.stderr


def test_the_original_scenarios_pass_against_the_stack(stack: Stack) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "e2e/test_original_scenarios.py"],
        cwd=ROOT, env={**os.environ, "USER_SERVICE_E2E_BASE_URL": stack.base_url},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    print(result.stdout.splitlines()[-1])
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def test_a_short_load_run_passes(stack: Stack, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    settings = {
        "BASE_URL": stack.base_url,
        "RATE": "3000",  # 50 requests a second for 10 s: `make load`'s scenario, briefly
        "DURATION": "10s",
        "USERS": "100",
        "P99_MS": "2000",  # a smoke run on a busy two-core machine, not a measurement
        "SUMMARY": str(summary),
    }
    outcome = run_k6(settings, timeout=180)
    assert outcome.returncode == 0, outcome.stdout[-3000:] + outcome.stderr[-3000:]
    metrics = json.loads(summary.read_text())["metrics"]
    assert metrics["checks{phase:load}"]["values"]["rate"] == 1
    assert metrics.get("dropped_iterations", {"values": {"count": 0}})["values"]["count"] == 0
    assert metrics["http_req_failed{phase:load}"]["values"]["rate"] == 0
    duration = metrics["http_req_duration{phase:load}"]["values"]
    print(
        f"k6: {duration['count']:.0f} requests in 10 s, "
        f"p50 {duration['p(50)']:.1f} ms, p99 {duration['p(99)']:.1f} ms, none failed"
    )


def test_a_database_outage_answers_503_and_the_service_recovers(stack: Stack) -> None:
    stop = stack.compose("stop", "postgres")
    assert stop.returncode == 0, stop.stderr
    try:
        _until(lambda: httpx.get(f"{stack.base_url}/readyz", timeout=5).status_code == 503)
        assert httpx.get(f"{stack.base_url}/users", timeout=30).status_code == 503
    finally:
        start = stack.compose("start", "postgres")
        assert start.returncode == 0, start.stderr
    _until(lambda: httpx.get(f"{stack.base_url}/readyz", timeout=5).status_code == 200)
    assert httpx.get(f"{stack.base_url}/users", timeout=10).status_code == 200


def test_prometheus_scrapes_the_service_and_every_dashboard_query_has_data(stack: Stack) -> None:
    up = 'up{job="user-service"}'
    _until(lambda: [value for _, value in _query(stack, up)] == ["1"])
    queries = _dashboard_queries()
    assert queries
    deadline = time.monotonic() + QUERY_TIMEOUT
    empty = queries
    while empty and time.monotonic() < deadline:
        empty = [query for query in empty if not _query(stack, query)]
        time.sleep(2)
    assert empty == [], f"no data after {QUERY_TIMEOUT} s"
    print(f"prometheus: all {len(queries)} dashboard queries returned data")


def _dashboard_queries() -> list[str]:
    """Every panel's PromQL, with Grafana's variables as Grafana would fill them here."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [panel for top in dashboard["panels"] for panel in [top, *top.get("panels", [])]]
    return [
        target["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m")
        for panel in panels
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def _query(stack: Stack, query: str) -> list[tuple[dict[str, str], str]]:
    answer = httpx.get(f"{stack.prometheus}/api/v1/query", params={"query": query}, timeout=10)
    assert answer.status_code == 200, f"{query}: {answer.text}"
    body: dict[str, Any] = answer.json()
    return [(each["metric"], each["value"][1]) for each in body["data"]["result"]]


def _until(condition: Any, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(1)
