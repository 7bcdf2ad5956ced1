"""The cluster suite: one release of the chart on the Kind cluster (`make kind-up`), installed
with helm/user-service/ci/kind-values.yaml (a two-instance CloudNativePG Cluster, the Pooler, the
HPA), reached at its Service's ClusterIP (kind-up.sh routes the Service network through the node).

The modules run in the order of their names: install, scenarios, faults under load (the
database's, then the pods'), upgrade, uninstall. Extra helm
arguments come from USER_SERVICE_CLUSTER_HELM_ARGS (the last `--timeout` wins), which is how a
deliberately broken value is tried (the README names those tried). Run by
`make cluster-test`, never by `make test`: without USER_SERVICE_CLUSTER_IMAGE the folder is not
collected (e2e/conftest.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from e2e.cluster.kube import (
    NAMESPACE,
    RELEASE,
    RESULTS,
    helm,
    image,
    install,
    kubectl,
    service_url,
    wait_until_served,
)

ROLLOUT_SECONDS = int(os.environ.get("USER_SERVICE_CLUSTER_ROLLOUT_SECONDS", "600"))
"""How long the install waits for each Deployment's rollout (shorter to try a broken chart)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    base_url: str
    service: str


@pytest.fixture(scope="session")
def release() -> Iterator[Release]:
    """helm install, timed; removed at the end, whatever happened, if the uninstall test did not
    get to it (a failed install too, so that the next run starts clean)."""
    _, tag = image()
    start = time.monotonic()
    try:
        install(tag, rollout_seconds=ROLLOUT_SECONDS)
        RESULTS.figures["install_seconds"] = round(time.monotonic() - start, 1)
        service, base_url = service_url()
        RESULTS.figures["first_served_after_install_seconds"] = round(
            wait_until_served(base_url), 1
        )
        yield Release(base_url=base_url, service=service)
    finally:
        if helm("status", RELEASE, check=False).returncode == 0:
            helm("uninstall", RELEASE, "--wait", "--timeout=5m", check=False)
        kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", check=False)


@pytest.fixture
def api(release: Release) -> Iterator[httpx.Client]:
    """An HTTP client for the release's Service (replaces e2e/conftest.py's local server)."""
    with httpx.Client(base_url=release.base_url, timeout=10) as client:
        yield client


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        entry = RESULTS.tests.setdefault(report.nodeid, {"seconds": 0.0})
        entry["seconds"] = round(entry["seconds"] + report.duration, 2)
        if report.when == "call" or report.outcome == "failed":
            entry["outcome"] = report.outcome


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = Path(os.environ.get("USER_SERVICE_CLUSTER_RESULTS", ".cache/cluster"))
    RESULTS.figures["exit_status"] = int(session.exitstatus)
    RESULTS.write(folder)
