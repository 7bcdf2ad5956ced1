"""The k6 load scenario runs against the real server: a few seconds at a low rate, so it cannot rot.

``make load`` and ``make bench`` run the same ``e2e/load/scenario.js`` for real; this proves that
it still seeds, mixes every operation, checks every answer, and passes its thresholds.
"""

from __future__ import annotations

import json
from pathlib import Path

from e2e.load.k6 import run_k6
from e2e.server import RunningServer

OPERATIONS = ("get", "list", "create", "replace", "delete")


def test_the_load_scenario_passes_at_a_low_rate(server: RunningServer, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    settings = {
        "BASE_URL": server.base_url,
        "RATE": "1200",  # 20 requests a second
        "DURATION": "4s",
        "USERS": "30",
        # Few virtual users, so that each soon owns users it may replace and delete (a virtual
        # user without any answers replace and delete with a create).
        "VUS": "2",
        "MAX_VUS": "20",
        # Every operation often enough to be seen in 80 requests.
        "MIX": "get=40,list=15,create=20,replace=15,delete=10",
        "P99_MS": "2000",  # a smoke test on a busy machine, not a measurement
        "SUMMARY": str(summary),
    }
    outcome = run_k6(settings, timeout=120)

    assert outcome.returncode == 0, outcome.stdout + outcome.stderr
    metrics = json.loads(summary.read_text())["metrics"]
    assert metrics["checks{phase:load}"]["values"]["rate"] == 1
    assert (
        metrics["dropped_iterations"]["values"]["count"] == 0
        if "dropped_iterations" in metrics
        else True
    )
    for op in OPERATIONS:
        assert metrics[f"http_req_duration{{op:{op}}}"]["values"]["count"] > 0, op


def test_a_threshold_that_fails_makes_k6_fail(server: RunningServer, tmp_path: Path) -> None:
    settings = {
        "BASE_URL": server.base_url,
        "RATE": "600",
        "DURATION": "1s",
        "USERS": "5",
        "P99_MS": "0.001",  # no request is that fast
        "SUMMARY": str(tmp_path / "summary.json"),
    }
    outcome = run_k6(settings, timeout=120)

    assert outcome.returncode == 99, outcome.stdout + outcome.stderr
    assert "THRESHOLD FAILED: http_req_duration{phase:load}" in outcome.stdout
