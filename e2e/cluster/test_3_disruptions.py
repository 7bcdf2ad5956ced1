"""Pods come and go under a steady create-and-read load (e2e/cluster/steady.py): the HPA scales
out and back in, `kubectl rollout restart` replaces every pod, and one pod is killed outright.

The first two are routine and fail no request: the preStop pause keeps a leaving pod serving
until the Service has forgotten it, then the service finishes what is in flight. A killed pod
has no such pause: the test measures how many requests that costs and how fast the Service
stops routing to it, and fails when either passes its bound.
"""

from __future__ import annotations

import json
import time
from typing import Any

from e2e.cluster.conftest import Release
from e2e.cluster.kube import (
    API,
    RESULTS,
    api_pods,
    kubectl,
    kubectl_json,
    one_name,
    ready_addresses,
    wait_for,
)
from e2e.cluster.steady import SteadyLoad

RATE = 20
"""Requests a second of the steady load."""
ROUTED_WITHIN_SECONDS = 5
"""A killed pod is out of the Service's endpoints within this long."""
FAILED_WITHIN_SECONDS = 5
"""Requests fail for at most this long after the kill (kube-proxy lags the endpoints)."""


def _settled(count: int) -> bool | None:
    """True once exactly ``count`` pods of the service exist and all are ready."""
    pods = kubectl_json("get", "pods", f"--selector={API}")["items"]
    ready = [
        pod
        for pod in pods
        if any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pod["status"].get("conditions", [])
        )
        and pod["metadata"].get("deletionTimestamp") is None
    ]
    return True if len(pods) == len(ready) == count else None


def _wanted_pods() -> int:
    return int(kubectl_json("get", one_name("deployments"))["spec"]["replicas"])


def test_the_hpa_scales_out_and_back_in_under_load_and_no_request_fails(release: Release) -> None:
    # The HPA's own decisions, made quick: minReplicas raised to maxReplicas (it scales out),
    # then put back with no scale-down stabilisation (it scales in at its next sync). The
    # stepped load of `make cluster-bench` shows it scaling on CPU; here only the pods' coming
    # and going is under test.
    hpa = one_name("horizontalpodautoscalers")
    spec = kubectl_json("get", hpa)["spec"]
    low, high = spec["minReplicas"], spec["maxReplicas"]
    quick_in = {
        "stabilizationWindowSeconds": 0,
        "selectPolicy": "Max",
        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
    }
    timeline: dict[str, float] = {}
    try:
        with SteadyLoad(release.base_url, rate=RATE) as load:
            time.sleep(3)
            _patch(hpa, {"spec": {"minReplicas": high}})
            _, timeline["scaled_out_seconds"] = wait_for(lambda: _settled(high), 180, "scale-out")
            _patch(hpa, {"spec": {"minReplicas": low, "behavior": {"scaleDown": quick_in}}})
            _, timeline["scaled_in_seconds"] = wait_for(lambda: _settled(low), 180, "scale-in")
            time.sleep(8)  # past the last pod's preStop pause and shutdown
    finally:
        _patch(hpa, {"spec": {"minReplicas": low, "behavior": spec["behavior"]}})
        wait_for(lambda: _settled(low), 180, "back to the HPA's minimum")
    RESULTS.figures["hpa_scale_out_and_in"] = {
        "pods": f"{low} -> {high} -> {low}",
        **{name: round(value, 1) for name, value in timeline.items()},
        **load.figures(),
    }
    assert len(load.answers) > RATE * 15
    assert load.failures() == [], load.failures()[:20]
    assert load.unreadable() == []


def test_a_rollout_restart_under_load_fails_no_request(release: Release) -> None:
    deployment = one_name("deployments")
    before = {pod["metadata"]["uid"] for pod in api_pods()}
    with SteadyLoad(release.base_url, rate=RATE) as load:
        time.sleep(3)
        start = time.monotonic()
        kubectl("rollout", "restart", deployment)
        kubectl("rollout", "status", deployment, "--timeout=300s", timeout=360)
        seconds = time.monotonic() - start
        time.sleep(8)  # the last old pod's preStop pause and shutdown
    after = {pod["metadata"]["uid"] for pod in api_pods()}
    RESULTS.figures["rollout_restart"] = {
        "seconds": round(seconds, 1),
        **load.figures(),
    }
    assert before.isdisjoint(after)
    assert len(load.answers) > RATE * 15
    assert load.failures() == [], load.failures()[:20]
    assert load.unreadable() == []


def test_a_killed_pod_costs_few_requests_and_leaves_the_service_at_once(release: Release) -> None:
    wanted = _wanted_pods()
    victim = api_pods()[0]
    address = victim["status"]["podIP"]
    assert address in ready_addresses(release.service)
    with SteadyLoad(release.base_url, rate=RATE) as load:
        time.sleep(3)
        killed = time.monotonic()
        kubectl(
            "delete",
            "pod",
            victim["metadata"]["name"],
            "--grace-period=0",
            "--force",
            "--wait=false",
        )
        _, unrouted = wait_for(
            lambda: True if address not in ready_addresses(release.service) else None,
            30,
            "the killed pod out of the Service",
        )
        _, replaced = wait_for(lambda: _settled(wanted), 180, "a replacement pod ready")
        time.sleep(3)
    failed = load.failures()
    last_failure = max((a.at + a.seconds - killed for a in failed), default=0.0)
    RESULTS.figures["pod_killed"] = {
        "out_of_endpoints_seconds": round(unrouted, 2),
        "replacement_ready_seconds": round(replaced, 1),
        **load.figures(),
        "last_failure_after_kill_seconds": round(last_failure, 2),
        "failures": [f"{a.at - killed:+.2f} s {a.op} {a.status} {a.error[:80]}" for a in failed],
    }
    assert unrouted <= ROUTED_WITHIN_SECONDS
    assert last_failure <= FAILED_WITHIN_SECONDS, json.dumps(RESULTS.figures["pod_killed"])
    assert load.unreadable() == []


def _patch(name: str, patch: dict[str, Any]) -> None:
    kubectl("patch", name, "--type=merge", f"--patch={json.dumps(patch)}")
