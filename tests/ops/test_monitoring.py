"""The monitoring profile's wiring: Prometheus scrapes the service, Grafana loads the dashboard.

What can only be seen with the containers running (Prometheus reaching the target, Grafana
rendering the panels) is not checked here; the README says so.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tests.ops.deployment_files import (
    DASHBOARD,
    GRAFANA_PROVISIONING,
    PROMETHEUS_CONFIG,
    ROOT,
    load_yaml,
)
from tests.ops.dockerfile import Dockerfile

PROMETHEUS_CONFIG_IN_IMAGE = "/etc/prometheus/prometheus.yml"
GRAFANA_PROVISIONING_IN_IMAGE = "/etc/grafana/provisioning"


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """The service's bind mounts from the repository: source → path in the container."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[source.removeprefix("./")] = target
    return mounts


def test_prometheus_reads_the_repository_config(compose: dict[str, Any]) -> None:
    mounts = _mounts(compose["services"]["prometheus"])
    assert mounts == {PROMETHEUS_CONFIG: PROMETHEUS_CONFIG_IN_IMAGE}


def test_prometheus_scrapes_the_service_metrics(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    config = load_yaml(ROOT / PROMETHEUS_CONFIG)
    port = dockerfile.stage("runtime").environment()["USER_SERVICE_PORT"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["user-service"]
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    assert targets == [f"user-service:{port}"]
    assert "user-service" in compose["services"]


def test_grafana_is_provisioned_from_the_repository(compose: dict[str, Any]) -> None:
    mounts = _mounts(compose["services"]["grafana"])
    assert mounts[GRAFANA_PROVISIONING] == GRAFANA_PROVISIONING_IN_IMAGE


def test_grafana_loads_the_dashboard_file_from_its_provider_path(compose: dict[str, Any]) -> None:
    mounted_at = PurePosixPath(_mounts(compose["services"]["grafana"])[DASHBOARD])
    providers = load_yaml(ROOT / GRAFANA_PROVISIONING / "dashboards" / "user-service.yml")
    paths = [PurePosixPath(each["options"]["path"]) for each in providers["providers"]]
    assert mounted_at.suffix == ".json"
    assert mounted_at.parent in paths
    home = compose["services"]["grafana"]["environment"][
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"
    ]
    assert home == str(mounted_at)


def test_grafana_datasource_is_the_compose_prometheus_under_the_dashboard_default_uid(
    compose: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    datasources = load_yaml(ROOT / GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")
    (source,) = datasources["datasources"]
    variable = next(v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    url = urlsplit(source["url"])
    published = compose["services"]["prometheus"]["ports"]
    assert source["type"] == variable["query"] == "prometheus"
    assert source["uid"] == variable["current"]["value"]
    assert url.hostname == "prometheus"
    # Published as "${PROMETHEUS_HOST_PORT:-9090}:9090": the container side is the URL's port.
    assert any(ports.endswith(f":{url.port}") for ports in published)
