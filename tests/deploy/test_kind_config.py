"""The Kind cluster config: its name gives the one context Tilt allows, and its port mappings
collide neither with each other nor with Tilt's port-forwards."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.chart import ROOT
from tests.deploy.tiltfile import evaluate
from tests.ops.deployment_files import load_yaml


@pytest.fixture(scope="module")
def cluster() -> dict[str, Any]:
    return load_yaml(ROOT / "deploy" / "kind" / "cluster.yaml")


def test_is_a_kind_cluster_named_user_service(cluster: dict[str, Any]) -> None:
    assert cluster["kind"] == "Cluster"
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert cluster["name"] == "user-service"
    roles = [node["role"] for node in cluster["nodes"]]
    assert roles.count("control-plane") == 1
    assert roles.count("worker") >= 2


def test_host_ports_are_free_for_tilt_port_forwards(cluster: dict[str, Any]) -> None:
    mapped = [
        mapping["hostPort"]
        for node in cluster["nodes"]
        for mapping in node.get("extraPortMappings", [])
    ]
    forwarded = {8080, 3000}
    assert len(mapped) == len(set(mapped))
    assert mapped
    assert not set(mapped) & forwarded
    release = evaluate("up").resource("user-service")
    assert {int(forward.split(":")[0]) for forward in release.kwargs["port_forwards"]} <= forwarded
