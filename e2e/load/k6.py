"""Running ``scenario.js`` with the pinned k6 from ``.tools/bin`` (``make tools`` builds it)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("scenario.js")
K6 = ROOT / ".tools" / "bin" / "k6"


def k6_command(settings: Mapping[str, str], *extra: str) -> list[str]:
    """The command line running the scenario with ``settings`` (its ``-e NAME=value`` options)."""
    if not K6.exists():
        raise FileNotFoundError(f"{K6} is missing: `make tools` builds the pinned k6")
    options = [item for name, value in settings.items() for item in ("-e", f"{name}={value}")]
    return [str(K6), "run", "--quiet", "--no-usage-report", *options, *extra, str(SCENARIO)]


def run_k6(
    settings: Mapping[str, str],
    *,
    extra: Sequence[str] = (),
    timeout: float | None = None,
    cpus: set[int] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the scenario to its end; the output is captured, the exit status is k6's.

    k6 exits 99 when a threshold fails. ``cpus`` pins it (and its threads) to those CPUs.
    """
    environment = {**os.environ, "K6_NO_USAGE_REPORT": "true"}
    return subprocess.run(
        k6_command(settings, *extra),
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=None if cpus is None else (lambda: os.sched_setaffinity(0, cpus)),
    )


@dataclass(frozen=True, slots=True)
class LoadFigures:
    """What k6's summary says of the scenario's load phase (the setup's requests left out)."""

    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    failed: float
    """The share of requests that failed."""
    bad_answers: int
    dropped: int
    """Iterations k6 could not start in time."""


def load_figures(summary: Path) -> LoadFigures:
    """The figures in a summary the scenario wrote (its ``SUMMARY`` setting)."""
    metrics = json.loads(summary.read_text())["metrics"]
    latency = metrics["http_req_duration{phase:load}"]["values"]
    return LoadFigures(
        requests=int(latency.get("count", 0)),
        p50_ms=latency.get("p(50)", 0.0),
        p95_ms=latency.get("p(95)", 0.0),
        p99_ms=latency.get("p(99)", 0.0),
        max_ms=latency.get("max", 0.0),
        failed=metrics["http_req_failed{phase:load}"]["values"]["rate"],
        bad_answers=int(metrics.get("bad_answers", {}).get("values", {}).get("count", 0)),
        dropped=int(metrics["dropped_iterations"]["values"]["count"]),
    )
