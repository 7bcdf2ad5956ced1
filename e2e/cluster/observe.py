"""What the cluster says about a release under load: CPU per pod, PostgreSQL's connections,
PgBouncer's pools, and what the HPA decided, read the way an operator would read them.

- CPU: the kubelet's resource metrics (``pod_cpu_usage_seconds_total``, the pods' cgroup usage,
  cumulative), through the API server's node proxy.
- PostgreSQL: ``pg_stat_activity`` on the primary, by ``kubectl exec`` of its own ``psql``.
- PgBouncer: CloudNativePG's exporter in each Pooler pod (``:9127/metrics``), at the pod's
  address (kind-up.sh routes the pod network from the host).
- Pods and the HPA: the Deployment's ready replicas and the HPA's status, sampled every few
  seconds by ``Sampler``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx2 as httpx
from prometheus_client.parser import text_string_to_metric_families

from e2e.cluster.kube import API, INSTANCE, kubectl, kubectl_json, one_name, run

SERVICE, POSTGRES, POOLER = "service", "postgres", "pooler"


def role(pod: dict[str, Any]) -> str | None:
    """Which part of the release a pod is (``None``: a Job's, a test's)."""
    labels = pod["metadata"].get("labels", {})
    if "cnpg.io/poolerName" in labels:
        return POOLER
    if labels.get("cnpg.io/podRole") == "instance":
        return POSTGRES
    if labels.get("app.kubernetes.io/component") == "api":
        return SERVICE
    return None


def pod_cpu_seconds(namespace: str) -> dict[str, tuple[str, float]]:
    """Each pod of ``namespace`` with a role: (role, CPU seconds used since it started)."""
    roles = {pod["metadata"]["name"]: role(pod) for pod in kubectl_json("get", "pods")["items"]}
    seconds: dict[str, tuple[str, float]] = {}
    for node in run("kubectl", "get", "nodes", "--output=name").stdout.split():
        text = run(
            "kubectl", "get", "--raw", f"/api/v1/nodes/{node.split('/')[1]}/proxy/metrics/resource"
        ).stdout
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = sample.labels
                if sample.name != "pod_cpu_usage_seconds_total":
                    continue
                kind = roles.get(labels.get("pod", ""))
                if labels.get("namespace") == namespace and kind is not None:
                    seconds[labels["pod"]] = (kind, sample.value)
    return seconds


def cpu_cores(
    before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]], seconds: float
) -> dict[str, float]:
    """Cores each role used between two readings (a pod started meanwhile counts from 0; one that
    ended meanwhile is missed)."""
    used: dict[str, float] = dict.fromkeys((SERVICE, POSTGRES, POOLER), 0.0)
    for pod, (kind, value) in after.items():
        used[kind] += value - before.get(pod, (kind, 0.0))[1]
    return {kind: round(used[kind] / seconds, 3) for kind in (SERVICE, POSTGRES, POOLER)}


def postgres_connections() -> dict[str, int]:
    """Client connections to the primary by state (``active``, ``idle``, ...) and in all."""
    cluster = kubectl_json("get", one_name("clusters.postgresql.cnpg.io"))
    primary = cluster["status"]["currentPrimary"]
    query = (
        "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1"
    )
    out = kubectl(
        "exec", primary, "--container=postgres", "--", "psql", "-tAF,", "-c", query
    ).stdout
    counts = {state: int(count) for state, count in (line.split(",") for line in out.split())}
    return {**counts, "total": sum(counts.values())}


def pooler_pools() -> dict[str, float] | None:
    """PgBouncer's client (``cl_*``) and server (``sv_*``) connections, summed over its pools and
    pods; ``None`` without a Pooler."""
    pods = kubectl_json("get", "pods", "--selector=cnpg.io/poolerName")["items"]
    if not pods:
        return None
    totals: dict[str, float] = {}
    for pod in pods:
        address = pod["status"].get("podIP")
        if not address:
            continue
        text = httpx.get(f"http://{address}:9127/metrics", timeout=5).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                prefix = "cnpg_pgbouncer_pools_"
                if sample.name.startswith(prefix) and sample.name[len(prefix) :][:3] in (
                    "cl_",
                    "sv_",
                ):
                    name = sample.name[len(prefix) :]
                    totals[name] = totals.get(name, 0.0) + sample.value
    return dict(totals)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    at: float
    """Seconds since the sampler started."""
    ready: int
    desired: int | None
    cpu_percent: int | None
    """The HPA's last reading of CPU use, in percent of the pods' request."""


@dataclass
class Sampler:
    """Ready pods and the HPA's decision every ``every`` seconds, in a thread."""

    every: float = 3.0
    samples: list[Sample] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def now(self) -> float:
        return time.monotonic() - self.started

    def between(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.at <= end]

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            at = self.now()
            try:
                deployment = kubectl_json("get", "deployments", f"--selector={API}")
                hpa = kubectl_json("get", "horizontalpodautoscalers", f"--selector={INSTANCE}")
            except AssertionError:
                continue  # the API server was slow to answer: the next sample will do
            ready = sum(d["status"].get("readyReplicas", 0) for d in deployment["items"])
            status = hpa["items"][0]["status"] if hpa["items"] else {}
            cpu = [
                m["resource"]["current"].get("averageUtilization")
                for m in status.get("currentMetrics") or []
                if m.get("type") == "Resource"
            ]
            self.samples.append(
                Sample(
                    at=round(at, 1),
                    ready=ready,
                    desired=status.get("desiredReplicas"),
                    cpu_percent=cpu[0] if cpu else None,
                )
            )
