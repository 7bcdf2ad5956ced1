"""`helm uninstall` leaves nothing behind: no object in the namespace but the ones Kubernetes
puts in every namespace, no volume."""

from __future__ import annotations

import time

import pytest

from e2e.cluster.kube import NAMESPACE, RELEASE, RESULTS, helm, kubectl, run

KINDS = (
    "all,configmaps,secrets,persistentvolumeclaims,serviceaccounts,roles,rolebindings,"
    "networkpolicies,poddisruptionbudgets,horizontalpodautoscalers,jobs,"
    "clusters.postgresql.cnpg.io,poolers.postgresql.cnpg.io"
)
# What every namespace holds, release or not.
ALWAYS = {"configmap/kube-root-ca.crt", "serviceaccount/default"}


def _left() -> set[str]:
    return set(kubectl("get", KINDS, "--output=name").stdout.split())


def _volumes() -> list[str]:
    out = run(
        "kubectl",
        "get",
        "persistentvolumes",
        "--output=jsonpath={range .items[*]}{.spec.claimRef.namespace}/{.metadata.name} {end}",
    ).stdout.split()
    return [v for v in out if v.startswith(f"{NAMESPACE}/")]


@pytest.mark.usefixtures("release")
def test_uninstall_leaves_nothing_behind() -> None:
    start = time.monotonic()
    helm("uninstall", RELEASE, "--wait", "--timeout=5m")
    left: set[str] = set()
    volumes: list[str] = []
    while time.monotonic() - start < 180:
        left = {name for name in _left() if name not in ALWAYS}
        volumes = _volumes()
        if not left and not volumes:
            break
        time.sleep(2)
    RESULTS.figures["uninstall_seconds"] = round(time.monotonic() - start, 1)
    assert left == set()
    assert volumes == []
