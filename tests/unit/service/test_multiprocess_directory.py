"""Metrics shared between workers: a fresh directory per run, and live gauges of the dead dropped.

That values really add up across worker processes is shown by ``e2e/test_metrics_with_workers.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from user_service.telemetry.multiprocess_directory import (
    DIRECTORY_VARIABLE,
    forget_dead_processes,
    forget_this_process,
    shared_directory,
    shared_metrics_directory,
)


def test_each_run_gets_a_fresh_directory_that_is_removed_afterwards() -> None:
    before = os.environ.get(DIRECTORY_VARIABLE)
    with shared_metrics_directory() as first:
        assert shared_directory() == first
        assert list(first.iterdir()) == []
        (first / "counter_1.db").write_bytes(b"")
    with shared_metrics_directory() as second:
        assert second != first
    assert not first.exists()
    assert not second.exists()
    assert os.environ.get(DIRECTORY_VARIABLE) == before


def test_no_directory_means_this_process_keeps_its_own() -> None:
    assert shared_directory({}) is None
    assert shared_directory({DIRECTORY_VARIABLE: "/run/metrics"}) == Path("/run/metrics")


def test_live_gauges_of_dead_processes_are_dropped(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    living_pid = os.getpid()
    for name in (
        f"gauge_livesum_{dead_pid}.db",
        f"gauge_livesum_{living_pid}.db",
        f"gauge_max_{dead_pid}.db",
        f"counter_{dead_pid}.db",
    ):
        (tmp_path / name).write_bytes(b"")

    forget_dead_processes(tmp_path)

    left = {path.name for path in tmp_path.iterdir()}
    assert left == {
        f"gauge_livesum_{living_pid}.db",
        f"gauge_max_{dead_pid}.db",
        f"counter_{dead_pid}.db",
    }
    forget_this_process(tmp_path)
    assert f"gauge_livesum_{living_pid}.db" not in {path.name for path in tmp_path.iterdir()}
