"""The HorizontalPodAutoscaler and the PodDisruptionBudget."""

from __future__ import annotations

from tests.deploy.chart import Rendered, render


def test_without_autoscaling_the_deployment_sets_replicas(defaults: Rendered) -> None:
    assert defaults.of_kind("HorizontalPodAutoscaler") == []
    assert defaults.one("Deployment")["spec"]["replicas"] == 2


def test_with_autoscaling_the_hpa_owns_the_replica_count(production: Rendered) -> None:
    hpa = production.one("HorizontalPodAutoscaler")["spec"]
    assert "replicas" not in production.one("Deployment")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": production.one("Deployment")["metadata"]["name"],
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 20)
    assert hpa["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]


def test_hpa_scales_up_at_once_and_down_slowly(production: Rendered) -> None:
    behavior = production.one("HorizontalPodAutoscaler")["spec"]["behavior"]
    up, down = behavior["scaleUp"], behavior["scaleDown"]
    assert up["stabilizationWindowSeconds"] == 0
    assert up["selectPolicy"] == "Max"
    assert {(p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]} == {
        ("Percent", 100, 30),
        ("Pods", 4, 30),
    }
    assert down["stabilizationWindowSeconds"] == 300
    assert down["selectPolicy"] == "Min"
    assert down["policies"] == [{"type": "Percent", "value": 20, "periodSeconds": 60}]


def test_pdb_lets_one_pod_go_at_a_time_by_default(defaults: Rendered) -> None:
    pdb = defaults.one("PodDisruptionBudget")["spec"]
    deployment = defaults.one("Deployment")
    assert pdb["selector"] == deployment["spec"]["selector"]
    assert pdb["maxUnavailable"] == 1
    assert "minAvailable" not in pdb
    assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_pdb_min_available_replaces_max_unavailable(production: Rendered) -> None:
    pdb = production.one("PodDisruptionBudget")["spec"]
    assert pdb["minAvailable"] == 2
    assert "maxUnavailable" not in pdb


def test_pdb_accepts_a_percentage() -> None:
    pdb = render(sets=["podDisruptionBudget.maxUnavailable=25%"]).one("PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == "25%"


def test_pdb_can_be_left_out(minimal: Rendered) -> None:
    assert minimal.of_kind("PodDisruptionBudget") == []
