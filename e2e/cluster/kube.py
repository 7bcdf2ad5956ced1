"""kubectl, helm and the release under test: thin wrappers that fail with the command's output."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "user-service"
VALUES = CHART / "ci" / "kind-values.yaml"
NAMESPACE = os.environ.get("USER_SERVICE_CLUSTER_NAMESPACE", "user-service-e2e")
RELEASE = "e2e"
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"
API = f"{INSTANCE},app.kubernetes.io/component=api"
"""The service's pods (not the migration Job's, the smoke test's, PostgreSQL's or PgBouncer's)."""

T = TypeVar("T")


def run(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; with ``check``, a failure is an assertion carrying its output."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{shlex.join(args)} exited with {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done


def kubectl(
    *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return run("kubectl", "--namespace", NAMESPACE, *args, timeout=timeout, check=check)


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "--output=json").stdout)


def helm(*args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("helm", "--namespace", NAMESPACE, *args, timeout=timeout, check=check)


def image() -> tuple[str, str]:
    """The application image under test (USER_SERVICE_CLUSTER_IMAGE, repository:tag)."""
    repository, _, tag = os.environ["USER_SERVICE_CLUSTER_IMAGE"].rpartition(":")
    return repository, tag


def chart_args(tag: str, *, wait: bool = True) -> list[str]:
    """helm install/upgrade arguments: CI's kind values, the image, the cluster's own extras.

    Without ``wait`` helm runs post-install hooks at once: the values create the CloudNativePG
    Cluster, so the migration Job is a post-install hook, and the pods are Ready only once the
    schema is at head, so `--wait` (resources Ready before post-install hooks) never finishes.
    """
    repository, _ = image()
    return [
        f"--values={VALUES}",
        f"--set=image.repository={repository}",
        f"--set=image.tag={tag}",
        *(["--wait"] if wait else []),
        "--timeout=10m",
        *cluster_args(),
    ]


def cluster_args() -> list[str]:
    """The helm arguments this cluster needs beside the values file, and any a run adds
    (USER_SERVICE_CLUSTER_HELM_ARGS; `make cluster-test CLUSTER_HELM_ARGS=...`)."""
    return shlex.split(os.environ.get("USER_SERVICE_CLUSTER_HELM_ARGS", ""))


def install(tag: str, *extra: str, rollout_seconds: float = 600) -> None:
    """``helm install`` the release with ``tag`` (and ``extra`` arguments), then wait for each of
    its Deployments to roll out (see ``chart_args`` for why not ``--wait``)."""
    helm("install", RELEASE, str(CHART), "--create-namespace", *chart_args(tag, wait=False), *extra)
    for deployment in kubectl(
        "get", "deployments", f"--selector={INSTANCE}", "--output=name"
    ).stdout.split():
        kubectl(
            "rollout",
            "status",
            deployment,
            f"--timeout={rollout_seconds:.0f}s",
            timeout=rollout_seconds + 60,
        )


def service_url() -> tuple[str, str]:
    """The release's API Service: its name and its URL at the ClusterIP."""
    services = kubectl_json("get", "services", f"--selector={INSTANCE}")["items"]
    api = [s for s in services if s["spec"].get("clusterIP") not in (None, "None")]
    assert len(api) == 1, [s["metadata"]["name"] for s in services]
    spec = api[0]["spec"]
    return api[0]["metadata"]["name"], f"http://{spec['clusterIP']}:{spec['ports'][0]['port']}"


def wait_until_served(base_url: str, seconds: float = 60) -> float:
    """Seconds until /readyz answers 200 through the Service (kube-proxy lags its endpoints)."""
    start = time.monotonic()
    while True:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - start
        except httpx.TransportError:
            pass
        assert time.monotonic() - start < seconds, f"{base_url}/readyz not served in {seconds} s"
        time.sleep(0.5)


def one_name(kind: str, selector: str = INSTANCE) -> str:
    """``kind/name`` of the release's single object of ``kind``."""
    names = kubectl("get", kind, f"--selector={selector}", "--output=name").stdout.split()
    assert len(names) == 1, (kind, names)
    return names[0]


def api_pods() -> list[dict[str, Any]]:
    """The service's pods that are not being deleted."""
    pods = kubectl_json("get", "pods", f"--selector={API}")["items"]
    return [pod for pod in pods if pod["metadata"].get("deletionTimestamp") is None]


def ready_addresses(service: str) -> set[str]:
    """The pod addresses the Service routes to now (its EndpointSlices' ready endpoints)."""
    slices = kubectl_json(
        "get", "endpointslices", f"--selector=kubernetes.io/service-name={service}"
    )["items"]
    return {
        address
        for piece in slices
        for endpoint in piece.get("endpoints") or []
        if endpoint["conditions"].get("ready")
        for address in endpoint["addresses"]
    }


def wait_for(check: Callable[[], T | None], seconds: float, what: str) -> tuple[T, float]:
    """Poll ``check`` every 0.25 s until it returns something; that and the seconds it took."""
    start = time.monotonic()
    while True:
        found = check()
        if found is not None:
            return found, time.monotonic() - start
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.25)


def load_image(name: str) -> None:
    """Put a Docker image into the cluster's node (no registry)."""
    run(str(ROOT / "deploy" / "kind" / "scripts" / "load-image.sh"), name)


@dataclass
class Results:
    """Figures the suite writes to USER_SERVICE_CLUSTER_RESULTS/results.json."""

    started: float = field(default_factory=time.time)
    figures: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "results.json"
        document = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "figures": self.figures,
            "tests": self.tests,
        }
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path


RESULTS = Results()
