"""`make test` on a machine that lacks something stops at once, with one line saying what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ops.deployment_files import ROOT

SCRIPT = ROOT / "scripts" / "check-test-prerequisites.sh"


def _run(tools: dict[str, int], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The check with only ``tools`` on PATH, each a stub exiting with its status."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("timeout", "printf"):
        found = shutil.which(name)
        assert found is not None
        (bin_dir / name).symlink_to(found)
    for name, status in tools.items():
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\nexit {status}\n")
        stub.chmod(0o755)
    bash = shutil.which("bash")
    assert bash is not None
    return subprocess.run(
        [bash, str(SCRIPT)],
        env={**os.environ, "PATH": str(bin_dir)},
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def test_a_bare_machine_gets_one_line_naming_everything(tmp_path: Path) -> None:
    result = _run({}, tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for needed in (
        "Go",
        "npm",
        "Chromium",
        "Docker engine",
        "wrk",
        "apt-get install -y chromium wrk docker.io",
    ):
        assert needed in lines[0]
    assert "bash .ci/run" in lines[0]


def test_an_engine_that_does_not_answer_is_named(tmp_path: Path) -> None:
    result = _run({"go": 0, "npm": 0, "chromium": 0, "wrk": 0, "docker": 1}, tmp_path)
    assert result.returncode == 1
    assert "no engine answers: start dockerd" in result.stderr
    assert "apt-get" not in result.stderr


@pytest.mark.parametrize("browser", ["chromium", "chromium-browser"])
def test_a_complete_machine_passes_silently(tmp_path: Path, browser: str) -> None:
    result = _run({"go": 0, "npm": 0, browser: 0, "wrk": 0, "docker": 0}, tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
