"""What the chart ships beside the service: the Grafana dashboard and the ``helm test`` Job."""

from __future__ import annotations

import json
from typing import Final

from tests.deploy.chart import CHART, ROOT, Rendered, annotations_of, container, pod_spec
from tests.ops.deployment_files import DASHBOARD as DASHBOARD_PATH

DASHBOARD: Final = ROOT / DASHBOARD_PATH
"""The dashboard's home, which Compose mounts. Helm cannot read files outside the chart, so the
chart keeps a copy that must stay identical."""
CHART_DASHBOARD: Final = CHART / "dashboards" / "user-service-dashboard.json"


def test_chart_dashboard_is_the_repository_dashboard() -> None:
    assert CHART_DASHBOARD.read_bytes() == DASHBOARD.read_bytes(), (
        f"copy {DASHBOARD.relative_to(ROOT)} to {CHART_DASHBOARD.relative_to(ROOT)}"
    )


def test_dashboard_config_map_carries_the_dashboard(defaults: Rendered) -> None:
    config_map = defaults.one("ConfigMap", "user-service-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = config_map["data"]["user-service-dashboard.json"]
    assert json.loads(shipped) == json.loads(DASHBOARD.read_text())


def test_helm_test_runs_the_smoke_script_against_the_service(defaults: Rendered) -> None:
    job = defaults.one("Job", "user-service-smoke-test")
    script = defaults.one("ConfigMap", "user-service-smoke-test")
    service = defaults.one("Service")
    assert annotations_of(job)["helm.sh/hook"] == "test"
    assert annotations_of(script)["helm.sh/hook"] == "test"
    assert int(annotations_of(script)["helm.sh/hook-weight"]) < int(
        annotations_of(job)["helm.sh/hook-weight"]
    )
    assert script["data"]["smoke.py"] == (CHART / "files" / "smoke.py").read_text().rstrip("\n")
    smoke = container(job, "smoke-test")
    assert smoke["command"] == ["python", "/smoke/smoke.py"]
    assert smoke["args"] == [f"http://{service['metadata']['name']}.users.svc:80"]
    assert smoke["image"] == container(defaults.one("Deployment"))["image"]
    assert smoke["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] == 0
