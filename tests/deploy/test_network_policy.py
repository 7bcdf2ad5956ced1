"""The NetworkPolicy: without authentication, only the ingress controller, the chart's test pod
and (when it scrapes) Prometheus may open connections to the API port."""

from __future__ import annotations

from typing import Any

from tests.deploy.chart import Rendered, render


def peers(rendered: Rendered) -> list[dict[str, Any]]:
    rules = rendered.one("NetworkPolicy")["spec"]["ingress"]
    assert len(rules) == 1
    assert rules[0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    found: list[dict[str, Any]] = rules[0]["from"]
    return found


def test_no_network_policy_unless_asked(defaults: Rendered) -> None:
    assert defaults.of_kind("NetworkPolicy") == []


def test_policy_selects_the_api_pods_for_ingress_only(production: Rendered) -> None:
    policy = production.one("NetworkPolicy")["spec"]
    assert policy["podSelector"] == production.one("Deployment")["spec"]["selector"]
    assert policy["policyTypes"] == ["Ingress"]


def test_only_ingress_controller_test_pod_and_prometheus_are_admitted(
    production: Rendered,
) -> None:
    ingress_nginx = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
    }
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    test_pod = {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/instance": "user-service",
                "app.kubernetes.io/component": "smoke-test",
            }
        }
    }
    assert peers(production) == [ingress_nginx, test_pod, prometheus]


def test_prometheus_is_admitted_only_when_it_scrapes() -> None:
    rendered = render(sets=["networkPolicy.enabled=true"])
    namespaces = [peer.get("namespaceSelector") for peer in peers(rendered)]
    assert namespaces == [{"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}, None]


def test_the_test_pod_carries_the_admitted_labels(production: Rendered) -> None:
    admitted = peers(production)[1]["podSelector"]["matchLabels"]
    smoke = production.one("Job", "user-service-smoke-test")
    assert admitted.items() <= smoke["spec"]["template"]["metadata"]["labels"].items()
