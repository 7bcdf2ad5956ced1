"""The service's Deployment: probes, security, graceful termination, spreading, configuration."""

from __future__ import annotations

from typing import Any

from tests.deploy.chart import (
    OLDEST_KUBERNETES,
    Rendered,
    container,
    pod_spec,
    render,
)


def api_container(rendered: Rendered) -> dict[str, Any]:
    return container(rendered.one("Deployment"), "user-service")


def test_probes_ask_livez_and_readyz_on_the_http_port(defaults: Rendered) -> None:
    service = api_container(defaults)
    assert service["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert service["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert service["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert service["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_probes_can_be_turned_off() -> None:
    rendered = render(sets=["probes.startup.enabled=false", "probes.liveness.enabled=false"])
    service = api_container(rendered)
    assert "startupProbe" not in service
    assert "livenessProbe" not in service
    assert service["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_runs_as_non_root_with_a_read_only_root_and_no_capabilities(defaults: Rendered) -> None:
    spec = pod_spec(defaults.one("Deployment"))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    security = api_container(defaults)["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_no_service_links_shadow_the_settings(defaults: Rendered) -> None:
    # Kubernetes would set USER_SERVICE_PORT=tcp://<ip>:80 for the Service named user-service.
    assert defaults.one("Service")["metadata"]["name"] == "user-service"
    for workload in [defaults.one("Deployment"), *defaults.of_kind("Job")]:
        assert pod_spec(workload)["enableServiceLinks"] is False


def test_tmp_is_the_only_writable_directory(defaults: Rendered) -> None:
    spec = pod_spec(defaults.one("Deployment"))
    assert api_container(defaults)["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert spec["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def test_requests_and_limits_are_set(defaults: Rendered) -> None:
    resources = api_container(defaults)["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}


def test_pre_stop_pause_and_shutdown_fit_in_the_grace_period(defaults: Rendered) -> None:
    deployment = defaults.one("Deployment")
    config = defaults.one("ConfigMap", "user-service")["data"]
    pause = api_container(defaults)["lifecycle"]["preStop"]["sleep"]["seconds"]
    shutdown = float(config["USER_SERVICE_SHUTDOWN_GRACE_SECONDS"])
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert pause > 0
    assert grace > pause + shutdown


def test_pre_stop_pause_runs_sleep_before_kubernetes_1_30() -> None:
    # The sleep action exists from Kubernetes 1.30; older clusters run the image's sleep.
    rendered = render(kube_version=OLDEST_KUBERNETES)
    assert api_container(rendered)["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "5"]}}


def test_pods_spread_over_zones_and_nodes(defaults: Rendered) -> None:
    deployment = defaults.one("Deployment")
    selector = deployment["spec"]["selector"]["matchLabels"]
    constraints = pod_spec(deployment)["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in constraints] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    for constraint in constraints:
        assert constraint["labelSelector"]["matchLabels"] == selector
        assert constraint["matchLabelKeys"] == ["pod-template-hash"]
        assert constraint["maxSkew"] == 1


def test_spreading_can_be_turned_off(dev: Rendered) -> None:
    assert "topologySpreadConstraints" not in pod_spec(dev.one("Deployment"))


def test_rolling_update_never_goes_below_the_wanted_pods(defaults: Rendered) -> None:
    strategy = defaults.one("Deployment")["spec"]["strategy"]
    assert strategy["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}


def test_configuration_comes_from_the_config_map(defaults: Rendered) -> None:
    config_map = defaults.one("ConfigMap", "user-service")
    service = api_container(defaults)
    assert service["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]
    assert config_map["data"] == {
        "USER_SERVICE_HOST": "0.0.0.0",
        "USER_SERVICE_PORT": "8080",
        "USER_SERVICE_WORKERS": "1",
        "USER_SERVICE_LOG_LEVEL": "info",
        "USER_SERVICE_LEGACY_TIME_ZONE": "UTC",
        "USER_SERVICE_POOL_SIZE": "10",
        "USER_SERVICE_POOL_MAX_OVERFLOW": "0",
        "USER_SERVICE_POOL_TIMEOUT_SECONDS": "2",
        "USER_SERVICE_CONNECT_TIMEOUT_SECONDS": "5",
        "USER_SERVICE_STATEMENT_TIMEOUT_MS": "5000",
        "USER_SERVICE_COMMAND_TIMEOUT_SECONDS": "6",
        "USER_SERVICE_APPLICATION_NAME": "user-service",
        "USER_SERVICE_SHUTDOWN_GRACE_SECONDS": "20",
        "USER_SERVICE_MIGRATE_ON_START": "false",
        "USER_SERVICE_IDEMPOTENCY_PURGE_INTERVAL_SECONDS": "300",
        "USER_SERVICE_HTTP_MAX_HEAD_BYTES": "65536",
        "USER_SERVICE_HTTP_MAX_HEADERS": "100",
        "USER_SERVICE_HTTP_HEAD_TIMEOUT_SECONDS": "10",
        "USER_SERVICE_HTTP_KEEP_ALIVE_SECONDS": "5",
        "USER_SERVICE_RATE_LIMIT_ENABLED": "false",
        "USER_SERVICE_RATE_LIMIT_READS": "600",
        "USER_SERVICE_RATE_LIMIT_WRITES": "60",
        "USER_SERVICE_RATE_LIMIT_WINDOW_SECONDS": "60",
        "USER_SERVICE_FORWARDED_ALLOW_IPS": "127.0.0.1",
    }


def test_rate_limiting_and_cors_reach_the_pods_when_set() -> None:
    rendered = render(
        sets=[
            "config.rateLimit.enabled=true",
            "config.rateLimit.writes=10",
            "config.cors.allowOrigins={https://app.example,https://admin.example}",
        ]
    )
    data = rendered.one("ConfigMap", "user-service")["data"]
    assert data["USER_SERVICE_RATE_LIMIT_ENABLED"] == "true"
    assert data["USER_SERVICE_RATE_LIMIT_WRITES"] == "10"
    assert data["USER_SERVICE_CORS_ALLOW_ORIGINS"] == "https://app.example,https://admin.example"
    assert data["USER_SERVICE_CORS_MAX_AGE_SECONDS"] == "600"


def test_authentication_settings_reach_the_pods_when_a_jwks_is_set() -> None:
    rendered = render(
        sets=[
            "config.auth.jwksUrl=https://idp.example/jwks.json",
            "config.auth.audience=users-api",
            "config.auth.issuer=https://idp.example/",
        ]
    )
    data = rendered.one("ConfigMap", "user-service")["data"]
    assert data["USER_SERVICE_AUTH_JWKS"] == "https://idp.example/jwks.json"
    assert data["USER_SERVICE_AUTH_AUDIENCE"] == "users-api"
    assert data["USER_SERVICE_AUTH_ISSUER"] == "https://idp.example/"


def test_authentication_stays_off_without_a_jwks(defaults: Rendered) -> None:
    data = defaults.one("ConfigMap", "user-service")["data"]
    assert not [name for name in data if name.startswith("USER_SERVICE_AUTH_")]


def test_a_configuration_change_rolls_the_pods(defaults: Rendered) -> None:
    changed = render(sets=["config.logLevel=debug"])
    annotation = "checksum/config"
    before = defaults.one("Deployment")["spec"]["template"]["metadata"]["annotations"][annotation]
    after = changed.one("Deployment")["spec"]["template"]["metadata"]["annotations"][annotation]
    assert before != after


def test_the_service_selects_only_the_api_pods(defaults: Rendered) -> None:
    service = defaults.one("Service")
    pod_labels = defaults.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    for job in defaults.of_kind("Job"):
        job_labels = job["spec"]["template"]["metadata"]["labels"]
        assert not service["spec"]["selector"].items() <= job_labels.items()


def test_image_defaults_to_the_chart_app_version(defaults: Rendered) -> None:
    assert api_container(defaults)["image"] == "user-service:0.1.0"
    assert api_container(defaults)["command"] == ["user-service"]
    assert api_container(defaults)["args"] == ["serve"]


def test_the_legacy_time_zone_reaches_the_migration_job_and_the_pods() -> None:
    rendered = render(sets=["config.legacyTimeZone=Europe/Warsaw"])
    for name in ("user-service", "user-service-migrations"):
        data = rendered.one("ConfigMap", name)["data"]
        assert data["USER_SERVICE_LEGACY_TIME_ZONE"] == "Europe/Warsaw", name
