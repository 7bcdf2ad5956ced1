"""The GitHub Actions workflow: actionlint and the GitHub workflow JSON schema (shipped inside
check-jsonschema) accept it, and its jobs do what the README says CI does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from tests.deploy.chart import ROOT, tool
from tests.deploy.tiltfile import evaluate

WORKFLOW: Final = ROOT / ".github" / "workflows" / "ci.yaml"


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("actionlint")), "-no-color", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "check_jsonschema"]
    command += ["--builtin-schema", "vendor.github-workflows", str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def step_commands(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_actionlint_accepts_the_workflow() -> None:
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_github_workflow_schema_accepts_the_workflow() -> None:
    result = check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_checks_refuse_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    stepz: []\n")
    assert actionlint(broken).returncode != 0
    assert check_jsonschema(broken).returncode != 0


def test_lint_and_test_job_uses_a_postgresql_service_then_testcontainers(
    workflow: dict[str, Any],
) -> None:
    job = workflow["jobs"]["lint-and-test"]
    assert job["services"]["postgres"]["image"].startswith("postgres:17")
    assert job["env"]["USER_SERVICE_TEST_DATABASE_URL"].startswith("postgresql://")
    commands = step_commands(job)
    assert "make test" in commands
    assert re.search(r"unset USER_SERVICE_TEST_DATABASE_URL\n.*pytest tests/integration", commands)


def test_kind_job_runs_the_same_make_targets_as_the_project_machines(
    workflow: dict[str, Any],
) -> None:
    job = workflow["jobs"]["kind"]
    assert job["needs"] == "lint-and-test"
    assert job["env"]["KIND_SOURCE"] == "registry"
    # make cluster-test builds the image on the base scripts/base-images.sh chooses: the official
    # one where a registry answers, as in lint-and-test.
    assert job["env"]["USE_REGISTRY"] == workflow["jobs"]["lint-and-test"]["env"]["USE_REGISTRY"]
    commands = step_commands(job)
    assert "make kind-up" in commands
    assert "make cluster-test" in commands
    down = next(step for step in job["steps"] if step.get("run") == "make kind-down")
    assert down["if"] == "always()"
    uploads = [step for step in job["steps"] if "upload-artifact" in step.get("uses", "")]
    assert uploads
    assert uploads[0]["if"] == "always()"


def test_the_cluster_and_tilt_install_the_same_cloudnativepg() -> None:
    operator = evaluate("ci").resource("cnpg-operator").kwargs["cmd"]
    pins = dict(
        line.split("=", 1)
        for line in (ROOT / "deploy" / "kind" / "versions.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert f"cnpg-{pins['CNPG_VERSION'].removeprefix('v')}.yaml" in operator
