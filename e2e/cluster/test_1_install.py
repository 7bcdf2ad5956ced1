"""After `helm install`: the migration hook ran first, `helm test` passes, the probes and the
metrics endpoint answer where Kubernetes and a ServiceMonitor look for them."""

from __future__ import annotations

import json
from datetime import datetime

import httpx2 as httpx
import pytest

from e2e.cluster.conftest import Release
from e2e.cluster.kube import CHART, INSTANCE, RELEASE, RESULTS, helm, kubectl_json, run


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.usefixtures("release")
def test_the_migration_job_completed_before_any_pod_of_the_service_served() -> None:
    # The hook Job is deleted once it succeeded (hook-delete-policy); its events stay. A pod
    # serves from the moment it is Ready (the Service sends it requests).
    events = kubectl_json("get", "events")["items"]
    completed = [
        e
        for e in events
        if e["involvedObject"]["kind"] == "Job"
        and "migrat" in e["involvedObject"]["name"]
        and e["reason"] == "Completed"
    ]
    assert completed, "no Completed event of the migration Job"
    job_done = min(_time(e.get("lastTimestamp") or e["eventTime"]) for e in completed)
    pods = kubectl_json("get", "pods", f"--selector={INSTANCE},app.kubernetes.io/component=api")
    ready = [
        _time(condition["lastTransitionTime"])
        for pod in pods["items"]
        for condition in pod["status"].get("conditions", [])
        if condition["type"] == "Ready" and condition["status"] == "True"
    ]
    assert ready, "no Ready pod of the service"
    RESULTS.figures["migration_done_before_first_ready_pod_seconds"] = (
        min(ready) - job_done
    ).total_seconds()
    # The job controller records Completed a moment after the migration pod exited (and events
    # count whole seconds), while /readyz answers 200 only once the schema is at head: allow 5 s.
    assert (job_done - min(ready)).total_seconds() <= 5, (
        f"migrations done at {job_done}, a pod Ready at {min(ready)}"
    )


@pytest.mark.usefixtures("release")
def test_helm_test_passes() -> None:
    # Not --logs: helm fetches the logs of a Pod named after the hook, and the chart's test is a
    # Job (`helm test --logs` exits 1 after a passing test). A failed Job stays for its logs.
    done = helm("test", RELEASE, "--timeout=5m")
    assert "Phase:          Succeeded" in done.stdout, done.stdout


def test_the_probes_answer_through_the_service(api: httpx.Client) -> None:
    assert api.get("/livez").status_code == 200
    ready = api.get("/readyz")
    assert ready.status_code == 200, ready.text


def test_every_pod_serves_metrics_where_the_service_monitor_scrapes(release: Release) -> None:
    # The ServiceMonitor the chart would create (its CRD is not installed here): its port name
    # and path, scraped on every endpoint of the Service, as Prometheus would.
    monitor = run(
        "helm",
        "template",
        RELEASE,
        str(CHART),
        "--kube-version=1.33.4",
        "--set=serviceMonitor.enabled=true",
        "--show-only=templates/servicemonitor_user-service.yaml",
    ).stdout
    port_name = monitor.split("- port: ", 1)[1].split()[0]
    path = monitor.split("path: ", 1)[1].split()[0]
    slices = kubectl_json(
        "get", "endpointslices", f"--selector=kubernetes.io/service-name={release.service}"
    )["items"]
    targets = [
        f"http://{address}:{port['port']}{path}"
        for piece in slices
        for port in piece["ports"]
        if port["name"] == port_name
        for endpoint in piece["endpoints"]
        if endpoint["conditions"].get("ready")
        for address in endpoint["addresses"]
    ]
    assert len(targets) >= 2, json.dumps(slices)
    for target in targets:
        scraped = httpx.get(target, timeout=5)
        assert scraped.status_code == 200, target
        assert scraped.headers["content-type"].startswith("text/plain"), target
        assert "# TYPE " in scraped.text
    RESULTS.figures["metrics_targets"] = len(targets)
