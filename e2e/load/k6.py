"""Running ``scenario.js`` with the pinned k6 from ``.tools/bin`` (``make tools`` builds it)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
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
