"""Fuzzing: schemathesis against the real server, from the server's own ``/openapi.json``.

Every check schemathesis has runs on every response (server errors, status codes, content
types, headers, response schemas, negative data rejected and positive data accepted), first on
each operation alone (examples, coverage of boundaries and fuzzing), then statefully: sequences
of calls that follow the document's links (create, then get, replace, patch, delete, list).

It runs ``st run`` over real TCP against ``user-service serve`` on PostgreSQL, with the project's
``schemathesis.toml``, a fixed seed and a bounded number of examples. The command line is
schemathesis's most complete runner (coverage phase, stateful phase with inferred links, JSON
report), it tests what clients meet (uvicorn and httptools included), and its process ends with
the run; the in-process pytest loader (``schemathesis.pytest.from_fixture``) does not work with
pytest 9.2. ``make fuzz`` runs the
same with many more examples and a time budget (``USER_SERVICE_FUZZ_EXAMPLES``,
``USER_SERVICE_FUZZ_SECONDS``; ``USER_SERVICE_FUZZ_SEED`` picks another seed). Each run writes
its figures to ``.cache/reliability/`` for RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from e2e.server import RunningServer

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / ".cache" / "reliability"
SEED = int(os.environ.get("USER_SERVICE_FUZZ_SEED", "20261125"))
EXAMPLES = int(os.environ.get("USER_SERVICE_FUZZ_EXAMPLES", "100"))
# `make fuzz` also gives each run a time budget, which fuzzing and stateful testing fill.
SECONDS = int(os.environ.get("USER_SERVICE_FUZZ_SECONDS", "0"))
# Whatever the budget, a run that stops answering is cut off rather than left hanging.
RUN_TIMEOUT = 60 + EXAMPLES + 2 * SECONDS
REQUEST_TIMEOUT = 10


def _fuzz(server: RunningServer, tmp_path: Path, name: str, phases: str) -> dict[str, Any]:
    """Run ``st run`` on these phases; its JSON report, also kept under ``.cache/``."""
    report = tmp_path / f"{name}.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{server.base_url}/openapi.json",
        f"--phases={phases}",
        f"--seed={SEED}",
        f"--max-examples={EXAMPLES}",
        "--workers=1",
        f"--request-timeout={REQUEST_TIMEOUT}",
        "--report=json",
        f"--report-json-path={report}",
        "--no-color",
        *([f"--max-time={SECONDS}"] if SECONDS else []),
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert run.returncode == 0, f"schemathesis found failures:\n{run.stdout}\n{run.stderr}"
    result: dict[str, Any] = json.loads(report.read_text())
    _keep_figures(name, result)
    return result


def _keep_figures(name: str, result: dict[str, Any]) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    figures = {
        "command": result["command"],
        "seed": result["seed"],
        "max_examples": EXAMPLES,
        "running_time_seconds": round(result["running_time"], 1),
        "operations_tested": result["operations"]["tested"],
        "test_cases": result["test_cases"]["generated"],
        "failures": result["test_cases"]["with_failures"],
        "errors": result["test_cases"]["errored"],
        "false_alarms_dropped": result["filtered"],
        "phases": {phase: info["status"] for phase, info in result["phases"].items()},
    }
    budget = "-long" if SECONDS else ""  # `make fuzz` keeps its own figures
    (FIGURES / f"{name}{budget}.json").write_text(json.dumps(figures, indent=2) + "\n")


@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_no_generated_request_breaks_any_operation(server: RunningServer, tmp_path: Path) -> None:
    result = _fuzz(server, tmp_path, "fuzz-operations", "examples,coverage,fuzzing")
    assert result["operations"]["tested"] == result["operations"]["total"]
    assert result["test_cases"]["generated"] > 0
    assert result["test_cases"]["with_failures"] == 0
    assert result["test_cases"]["errored"] == 0


@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_no_sequence_of_linked_calls_breaks_the_service(
    server: RunningServer, tmp_path: Path
) -> None:
    result = _fuzz(server, tmp_path, "fuzz-stateful", "stateful")
    assert result["phases"]["stateful"]["status"] == "success"
    assert result["test_cases"]["generated"] > 0
    assert result["test_cases"]["with_failures"] == 0
