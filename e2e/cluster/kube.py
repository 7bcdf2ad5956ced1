"""kubectl, helm and the release under test: thin wrappers that fail with the command's output."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "user-service"
VALUES = CHART / "ci" / "kind-values.yaml"
NAMESPACE = os.environ.get("USER_SERVICE_CLUSTER_NAMESPACE", "user-service-e2e")
RELEASE = "e2e"
INSTANCE = f"app.kubernetes.io/instance={RELEASE}"


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
    extra = shlex.split(os.environ.get("USER_SERVICE_CLUSTER_HELM_ARGS", ""))
    return [
        f"--values={VALUES}",
        f"--set=image.repository={repository}",
        f"--set=image.tag={tag}",
        *(["--wait"] if wait else []),
        "--timeout=10m",
        *extra,
    ]


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
