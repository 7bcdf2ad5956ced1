"""The custom resources, whose CRD schemas no package ships: their shape, and that they point at
the objects they must (the ServiceMonitor at the Service's port, the Pooler at the Cluster)."""

from __future__ import annotations

from tests.deploy.chart import Rendered, container, env, render


def test_service_monitor_scrapes_metrics_on_the_service_port(production: Rendered) -> None:
    monitor = production.one("ServiceMonitor")
    service = production.one("Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert spec["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert spec["namespaceSelector"] == {"matchNames": [service["metadata"]["namespace"]]}
    assert spec["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}
    ]
    assert [port["name"] for port in service["spec"]["ports"]] == ["http"]


def test_service_monitor_only_when_asked(defaults: Rendered) -> None:
    assert defaults.of_kind("ServiceMonitor") == []


def test_cluster_has_the_fields_cloudnativepg_requires(production: Rendered) -> None:
    cluster = production.one("Cluster")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = cluster["spec"]
    assert isinstance(spec["instances"], int)
    assert spec["instances"] >= 1
    assert isinstance(spec["imageName"], str)
    assert spec["storage"]["size"]
    assert spec["primaryUpdateStrategy"] in {"supervised", "unsupervised"}
    assert spec["affinity"]["podAntiAffinityType"] in {"preferred", "required"}
    assert all(isinstance(value, str) for value in spec["postgresql"]["parameters"].values())
    assert set(spec["resources"]) <= {"requests", "limits"}


def test_pooler_has_the_fields_cloudnativepg_requires(production: Rendered) -> None:
    pooler = production.one("Pooler")
    assert pooler["apiVersion"] == "postgresql.cnpg.io/v1"
    spec = pooler["spec"]
    assert spec["cluster"]["name"] == production.one("Cluster")["metadata"]["name"]
    assert spec["instances"] == 3
    assert spec["type"] in {"rw", "ro"}
    assert spec["pgbouncer"]["poolMode"] in {"session", "transaction"}
    assert all(isinstance(value, str) for value in spec["pgbouncer"]["parameters"].values())
    assert spec["monitoring"] == {"enablePodMonitor": True}


def test_an_existing_pooler_is_used_without_creating_one() -> None:
    rendered = render(
        sets=[
            "database.cloudnativepg.pooler.enabled=true",
            "database.cloudnativepg.pooler.create=false",
        ]
    )
    assert rendered.of_kind("Pooler") == []
    variables = env(container(rendered.one("Deployment")))
    assert "user-service-db-pooler-rw" in variables["USER_SERVICE_DATABASE_URL"]["value"]
