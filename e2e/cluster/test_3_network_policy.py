"""The chart's NetworkPolicy, enforced (kube-router's firewall on the local cluster, kindnet on
kind's published image): the ingress controller's pods, Prometheus' and the chart's test pod
reach the API; a pod without those labels, or with them in the wrong namespace, does not.

The policy is the chart's own, rendered for this release with `networkPolicy.enabled` and
`serviceMonitor.enabled` (for the Prometheus rule) and applied beside it, then deleted: the
ServiceMonitor's CRD is not installed here, and the release itself stays as installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.cluster.conftest import Release
from e2e.cluster.kube import (
    CHART,
    NAMESPACE,
    RELEASE,
    RESULTS,
    VALUES,
    cluster_args,
    helm,
    image,
    kubectl,
    kubectl_json,
    run,
)

PROBE = """
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
attempts = 0
while True:
    attempts += 1
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=3).status, "attempts", attempts)
        break
    except Exception as error:
        if time.monotonic() > deadline:
            reason = type(getattr(error, "reason", error)).__name__
            print("denied", reason, "attempts", attempts)
            break
        time.sleep(1)
"""
"""What a probe pod runs: the status of GET /livez once it answers, or `denied` and the last
error's name when it did not answer within the seconds given; then how many attempts it made.
The firewall learns a new pod's address a moment after the pod starts, so an allowed peer's
first attempts may be refused."""

PATIENCE = 30
"""Seconds a probe keeps trying: a refused peer is refused that long."""


@pytest.fixture
def policy(tmp_path: Path) -> Iterator[str]:
    rendered = helm(
        "template",
        RELEASE,
        str(CHART),
        f"--values={VALUES}",
        "--set=networkPolicy.enabled=true",
        "--set=serviceMonitor.enabled=true",
        "--show-only=templates/networkpolicy_user-service.yaml",
        f"--kube-version={kubectl_json('version')['serverVersion']['gitVersion']}",
        *cluster_args(),
    ).stdout
    created = []
    for namespace in ("ingress-nginx", "monitoring"):
        if run("kubectl", "get", "namespace", namespace, check=False).returncode != 0:
            run("kubectl", "create", "namespace", namespace)
            created.append(namespace)
    path = tmp_path / "networkpolicy.yaml"
    path.write_text(rendered)
    try:
        kubectl("apply", f"--filename={path}")
        yield rendered
    finally:
        kubectl("delete", f"--filename={path}", "--ignore-not-found", check=False)
        for namespace in created:
            run("kubectl", "delete", "namespace", namespace, "--wait=false", check=False)


def _probe(name: str, namespace: str, labels: str, url: str) -> None:
    repository, tag = image()
    run(
        "kubectl",
        "run",
        name,
        f"--namespace={namespace}",
        f"--image={repository}:{tag}",
        "--image-pull-policy=Never",
        "--restart=Never",
        f"--labels={labels}",
        "--command",
        "--",
        "python",
        "-c",
        PROBE,
        url,
        str(PATIENCE),
    )


def _outcome(name: str, namespace: str) -> str:
    run(
        "kubectl",
        f"--namespace={namespace}",
        "wait",
        f"pod/{name}",
        "--for=jsonpath={.status.phase}=Succeeded",
        "--timeout=120s",
        timeout=150,
    )
    return run("kubectl", f"--namespace={namespace}", "logs", name).stdout.strip()


def test_only_the_allowed_peers_reach_the_api(release: Release, policy: str) -> None:
    assert "app.kubernetes.io/name: prometheus" in policy
    url = f"{release.base_url}/livez"
    probes = {
        "ingress": ("ingress-nginx", "app.kubernetes.io/name=ingress-nginx", "200"),
        "prometheus": ("monitoring", "app.kubernetes.io/name=prometheus", "200"),
        "unlabelled": (NAMESPACE, "role=stranger", "denied"),
        "ingress-label-wrong-namespace": (
            NAMESPACE,
            "app.kubernetes.io/name=ingress-nginx",
            "denied",
        ),
    }
    suffix = f"{int(time.time()) % 100000}"
    found: dict[str, str] = {}
    try:
        for name, (namespace, labels, _) in probes.items():
            _probe(f"probe-{name}-{suffix}", namespace, labels, url)
        for name, (namespace, _, _) in probes.items():
            found[name] = _outcome(f"probe-{name}-{suffix}", namespace)
        smoke = helm("test", RELEASE, "--timeout=5m", check=False)
        found["helm test (smoke-test labels)"] = (
            "Succeeded" if "Phase:          Succeeded" in smoke.stdout else smoke.stdout[-500:]
        )
    finally:
        for name, (namespace, _, _) in probes.items():
            run(
                "kubectl",
                f"--namespace={namespace}",
                "delete",
                "pod",
                f"probe-{name}-{suffix}",
                "--ignore-not-found",
                "--wait=false",
                check=False,
            )
    RESULTS.figures["network_policy"] = found
    expected = {name: outcome for name, (_, _, outcome) in probes.items()}
    expected["helm test (smoke-test labels)"] = "Succeeded"
    assert {name: found[name].split()[0] for name in found} == expected, found
