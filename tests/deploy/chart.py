"""The Helm chart and the pinned helm binary: lint it, render it, and find objects in the result.

helm comes from ``make tools`` (``.tools/bin/helm``); a missing binary fails the tests, never
skips them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

ROOT: Final = Path(__file__).parents[2]
CHART: Final = ROOT / "helm" / "user-service"
TOOLS: Final = ROOT / ".tools" / "bin"
HELM: Final = TOOLS / "helm"
RELEASE: Final = "user-service"
NAMESPACE: Final = "users"

MINIMAL: Final = CHART / "ci" / "minimal-values.yaml"
PRODUCTION: Final = CHART / "ci" / "production-values.yaml"
KIND: Final = CHART / "ci" / "kind-values.yaml"
DEV: Final = ROOT / "deploy" / "kind" / "values-dev.yaml"
VALUE_SETS: Final = {"defaults": None, "minimal": MINIMAL, "production": PRODUCTION, "kind": KIND}
VALUE_SETS_WITH_DEV: Final = {**VALUE_SETS, "dev": DEV}

OLDEST_KUBERNETES: Final = "1.29.0"
"""The chart's kubeVersion floor (Chart.yaml)."""
NEWEST_KUBERNETES: Final = "1.37.0"
"""The newest version kubernetes-validate carries schemas for."""


def tool(name: str) -> Path:
    """A binary from ``.tools/bin``, or a failure that says how to get it."""
    path = TOOLS / name
    assert path.is_file(), f"{path} is missing: run `make tools` (it builds the pinned version)"
    return path


def helm(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned helm; the result, whatever the exit status."""
    return subprocess.run(
        [str(tool("helm")), *arguments], capture_output=True, text=True, check=False, timeout=120
    )


def values_flags(values: Path | None, sets: Iterable[str] = ()) -> list[str]:
    """``--values`` and ``--set`` arguments."""
    flags = [] if values is None else ["--values", str(values)]
    for assignment in sets:
        flags += ["--set", assignment]
    return flags


def template(
    values: Path | None = None,
    *,
    sets: Sequence[str] = (),
    kube_version: str = NEWEST_KUBERNETES,
    chart: Path = CHART,
    show_only: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``helm template`` of the chart (or a copy); the result, whatever the exit status."""
    only = [] if show_only is None else ["--show-only", show_only]
    return helm(
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        kube_version,
        *only,
        *values_flags(values, sets),
    )


@dataclass(frozen=True)
class Rendered:
    """The objects one ``helm template`` produced, hooks and tests included."""

    objects: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind``."""
        return [document for document in self.objects if document["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The single object of ``kind`` (named ``name``, when given)."""
        found = [
            document
            for document in self.of_kind(kind)
            if name is None or document["metadata"]["name"] == name
        ]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    def kinds(self) -> set[str]:
        """The kinds present."""
        return {document["kind"] for document in self.objects}


def render(
    values: Path | None = None,
    *,
    sets: Sequence[str] = (),
    kube_version: str = NEWEST_KUBERNETES,
) -> Rendered:
    """The chart's objects for these values; fails the test when helm refuses them."""
    result = template(values, sets=sets, kube_version=kube_version)
    assert result.returncode == 0, f"helm template failed:\n{result.stderr}"
    documents = [document for document in yaml.safe_load_all(result.stdout) if document]
    return Rendered(tuple(documents))


def annotations_of(document: dict[str, Any]) -> dict[str, str]:
    """An object's annotations (empty when it has none)."""
    found: dict[str, str] = document["metadata"].get("annotations") or {}
    return found


def pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec of a Deployment or Job."""
    spec: dict[str, Any] = document["spec"]["template"]["spec"]
    return spec


def container(document: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """A container of a Deployment or Job (its only one, when ``name`` is not given)."""
    containers = pod_spec(document)["containers"]
    found = [c for c in containers if name is None or c["name"] == name]
    assert len(found) == 1, f"expected one container {name or ''}, found {len(found)}"
    return dict(found[0])


def env(container_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A container's ``env`` by variable name."""
    return {variable["name"]: variable for variable in container_spec.get("env", [])}
