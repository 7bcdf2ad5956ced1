"""``make bench``'s runner, end to end on a tiny scale, so that it cannot rot between real runs.

It starts its own embedded PostgreSQL and the service and runs one short stage of the load
scenario; then the service and the reference application side by side for one short round each
(on Debian's PostgreSQL, TLS off and on, where it is installed), and writes its JSON and chart. The
figures are not measurements here (a few seconds on a busy machine); what is checked is that every
one of them was measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks import tls_postgres
from benchmarks.comparison import OPERATIONS, TLS_OFF, TLS_ON, UNIX_SOCKET

from e2e.load.k6 import ROOT

RATE_RPM = 3000
STAGE_SECONDS = 3


def test_the_runner_measures_a_stage_and_the_reference(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "benchmarks.run",
        "--no-hold", "--stages", str(RATE_RPM), "--step", "0",
        "--stage-duration", f"{STAGE_SECONDS}s", "--users", "20",
        "--rounds", "1", "--compare-duration", "2s", "--connections", "4",
        "--results", str(tmp_path), "--no-record",
    ]  # fmt: skip
    outcome = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )

    assert outcome.returncode == 0, outcome.stdout + outcome.stderr[-3000:]
    [report_file] = tmp_path.glob("bench-*.json")
    assert report_file.with_suffix(".png").stat().st_size > 0
    assert f"Results: {report_file}" in outcome.stdout
    report = json.loads(report_file.read_text())

    [stage] = report["stages"]
    assert stage["offered_rpm"] == RATE_RPM
    assert stage["requests"] >= RATE_RPM / 60 * STAGE_SECONDS * 0.8
    assert (stage["failed"], stage["bad_answers"]) == (0, 0)
    assert stage["p50_ms"] <= stage["p99_ms"] <= stage["max_ms"]
    assert stage["service_cpu"] > 0
    assert stage["service_rss_mb"] > 0
    # Measured (embedded PostgreSQL), though a few dozen statements may take less than the
    # kernel's 10 ms accounting tick.
    assert stage["database_cpu"] is not None
    assert stage["database_cpu"] >= 0
    assert stage["k6_cpu"] > 0
    assert 0 < stage["machine_busy"] <= 1
    assert stage["server_mean_ms"] > 0
    assert stage["db_ms_per_request"] > 0

    comparisons = {(c["connection"], c["op"]): c for c in report["reference"]}
    settings = [TLS_OFF, TLS_ON] if tls_postgres.available() else [UNIX_SOCKET]
    assert set(comparisons) == {(setting, op) for setting in settings for op in OPERATIONS}
    for comparison in comparisons.values():
        assert min(comparison["reference_rps"] + comparison["service_rps"]) > 0
        assert min(comparison["reference_cpu_ms"] + comparison["service_cpu_ms"]) > 0
        assert comparison["fraction"] > 0
        assert comparison["cpu_fraction"] > 0
