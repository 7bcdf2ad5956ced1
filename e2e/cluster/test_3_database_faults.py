"""The database side fails under a steady load of keyed creates and reads (e2e/cluster/steady.py):
the CloudNativePG primary is killed (the standby takes over), then the Pooler's PgBouncer pod.

The promises: meanwhile the service answers `503` (never another error, never a dropped
connection: its pods stay up and in the Service); it recovers by itself, without a restart of
its pods; every acknowledged create is there afterwards (the Cluster replicates synchronously,
ci/kind-values.yaml), and a create retried with its `Idempotency-Key` exists exactly once.
"""

from __future__ import annotations

import json
import time
from typing import Any

from e2e.cluster.conftest import Release
from e2e.cluster.kube import RESULTS, api_pods, kubectl, kubectl_json, one_name, wait_for
from e2e.cluster.steady import SteadyLoad

RATE = 20
"""Requests a second of the steady load."""
RECOVERY_SECONDS = 120
"""The service answers again within this long of the kill."""
ALLOWED = {"200", "201", "503"}
"""What the service may answer while its database is away."""


def _cluster() -> dict[str, Any]:
    return dict(kubectl_json("get", one_name("clusters.postgresql.cnpg.io")))


def _healthy() -> dict[str, Any] | None:
    """The Cluster's status once every instance is ready."""
    status = _cluster()["status"]
    ready = status.get("readyInstances") == status.get("instances")
    return status if ready and status.get("currentPrimary") == status.get("targetPrimary") else None


def _service_pods() -> dict[str, int]:
    """Each service pod's uid and its containers' restarts."""
    return {
        pod["metadata"]["uid"]: sum(c["restartCount"] for c in pod["status"]["containerStatuses"])
        for pod in api_pods()
    }


def _kill(pod: str) -> float:
    """Delete ``pod`` at once (no grace); the moment it was asked."""
    killed = time.monotonic()
    kubectl("delete", "pod", pod, "--grace-period=0", "--force", "--wait=false")
    return killed


def _figures(load: SteadyLoad, killed: float) -> dict[str, Any]:
    """What the load saw: until the last failed answer came back, and after."""
    recovered = max((a.at + a.seconds for a in load.failures(killed)), default=killed)
    return {
        "requests": len(load.answers),
        "statuses_before": dict(load.statuses(until=killed)),
        "statuses_until_recovered": dict(load.statuses(killed, recovered)),
        "statuses_after": dict(load.statuses(recovered)),
        "last_failure_answered_after_kill_seconds": round(recovered - killed, 1),
        "slowest_answer_seconds": round(max(a.seconds for a in load.answers), 2),
        "acknowledged_creates": len(load.created),
    }


def test_a_primary_failover_loses_no_acknowledged_write_and_duplicates_nothing(
    release: Release,
) -> None:
    before, _ = wait_for(_healthy, 300, "a healthy two-instance Cluster")
    assert before["instances"] == 2, before
    primary = before["currentPrimary"]
    pods = _service_pods()
    with SteadyLoad(release.base_url, rate=RATE, keyed=True) as load:
        time.sleep(3)
        killed = _kill(primary)
        promoted, failover = wait_for(
            lambda: (
                _cluster()["status"].get("currentPrimary")
                if _cluster()["status"].get("currentPrimary") not in (None, primary)
                else None
            ),
            RECOVERY_SECONDS,
            "a new primary",
        )
        wait_for(lambda: load.recovered_at(killed), RECOVERY_SECONDS, "the service answering")
        time.sleep(3)
    retried = load.retry_refused()
    lost = load.unreadable()
    figures = {
        **_figures(load, killed),
        "old_primary": primary,
        "new_primary": promoted,
        "failover_seconds": round(failover, 1),
        "refused_creates_retried_with_their_key": retried.retried,
        "of_them_already_committed": retried.replayed,
        "retry_problems": retried.problems,
        "acknowledged_writes_lost": len(lost),
        "service_pods_unchanged": _service_pods() == pods,
    }
    RESULTS.figures["primary_failover"] = figures
    _, healed = wait_for(_healthy, 300, "the old primary back as a standby")
    figures["standby_back_seconds"] = round(healed, 1)
    print(json.dumps(figures, indent=2))
    assert set(load.statuses()) <= ALLOWED, figures
    assert lost == [], lost[:10]
    assert retried.problems == [], retried.problems[:10]
    assert _service_pods() == pods


def test_a_killed_pooler_is_503_until_its_replacement_serves(release: Release) -> None:
    pods = _service_pods()
    pooler = one_name("poolers.postgresql.cnpg.io").split("/", 1)[1]
    bouncers = kubectl("get", "pods", f"--selector=cnpg.io/poolerName={pooler}", "--output=name")
    victim = bouncers.stdout.split()[0].removeprefix("pod/")
    with SteadyLoad(release.base_url, rate=RATE, keyed=True) as load:
        time.sleep(3)
        killed = _kill(victim)
        wait_for(lambda: load.recovered_at(killed), RECOVERY_SECONDS, "the service answering")
        time.sleep(3)
    retried = load.retry_refused()
    lost = load.unreadable()
    figures = {
        **_figures(load, killed),
        "refused_creates_retried_with_their_key": retried.retried,
        "of_them_already_committed": retried.replayed,
        "acknowledged_writes_lost": len(lost),
        "service_pods_unchanged": _service_pods() == pods,
    }
    RESULTS.figures["pooler_killed"] = figures
    print(json.dumps(figures, indent=2))
    assert set(load.statuses()) <= ALLOWED, figures
    assert lost == [], lost[:10]
    assert retried.problems == [], retried.problems[:10]
    assert _service_pods() == pods
