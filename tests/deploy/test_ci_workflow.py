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

from tests.deploy.chart import KIND, ROOT, tool
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


def test_kind_job_installs_the_chart_on_cloudnativepg_and_tests_it(
    workflow: dict[str, Any],
) -> None:
    job = workflow["jobs"]["kind"]
    assert job["needs"] == "lint-and-test"
    kind_action = next(step for step in job["steps"] if "kind-action" in step.get("uses", ""))
    assert kind_action["with"]["config"] == "deploy/kind/cluster.yaml"
    commands = step_commands(job)
    assert "kind load docker-image user-service:ci" in commands
    assert "releases/cnpg-${CNPG_VERSION}.yaml" in commands
    assert f"--values {KIND.relative_to(ROOT)}" in commands
    assert ".tools/bin/helm test" in commands
    assert "helm/user-service/files/smoke.py http://127.0.0.1:8080" in commands
    assert "make load" in commands
    uploads = [step for step in job["steps"] if "upload-artifact" in step.get("uses", "")]
    assert uploads
    assert uploads[0]["if"] == "always()"


def test_ci_and_tilt_install_the_same_cloudnativepg(workflow: dict[str, Any]) -> None:
    operator = evaluate("ci").resource("cnpg-operator").kwargs["cmd"]
    assert f"cnpg-{workflow['env']['CNPG_VERSION']}.yaml" in operator
