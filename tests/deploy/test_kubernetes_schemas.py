"""Every object each value set renders is valid Kubernetes, for the oldest and newest supported
versions: kubernetes-validate's strict schemas (which ship in the package) reject unknown fields.

The custom resources (CloudNativePG's Cluster and Pooler, the Prometheus Operator's
ServiceMonitor) have no schema there; ``test_custom_resources.py`` checks them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import kubernetes_validate  # type: ignore[import-untyped]  # ships neither types nor stubs
import pytest

from tests.deploy.chart import (
    NEWEST_KUBERNETES,
    OLDEST_KUBERNETES,
    VALUE_SETS_WITH_DEV,
    render,
)

CUSTOM_KINDS: Final = {
    "postgresql.cnpg.io/v1": {"Cluster", "Pooler"},
    "monitoring.coreos.com/v1": {"ServiceMonitor"},
}


def is_custom(document: dict[str, Any]) -> bool:
    return document["kind"] in CUSTOM_KINDS.get(document["apiVersion"], set())


def validation_errors(document: dict[str, Any], version: str) -> list[str]:
    try:
        kubernetes_validate.validate(document, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = "/".join(str(part) for part in error.path)
        return [f"{document['kind']}/{document['metadata']['name']} at {path}: {error.message}"]
    return []


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
@pytest.mark.parametrize("values", VALUE_SETS_WITH_DEV.values(), ids=VALUE_SETS_WITH_DEV.keys())
def test_every_rendered_object_is_valid_kubernetes(values: Path | None, version: str) -> None:
    rendered = render(values, kube_version=version)
    built_in = [document for document in rendered.objects if not is_custom(document)]
    assert built_in
    errors = [error for document in built_in for error in validation_errors(document, version)]
    assert errors == []


def test_only_the_known_custom_resources_lack_a_kubernetes_schema() -> None:
    rendered = render(VALUE_SETS_WITH_DEV["production"])
    custom = {(d["apiVersion"], d["kind"]) for d in rendered.objects if is_custom(d)}
    assert custom == {(api, kind) for api, kinds in CUSTOM_KINDS.items() for kind in kinds}


def test_validation_catches_a_wrong_object() -> None:
    # The check itself works: a Deployment with a misspelt field is refused.
    deployment = render().one("Deployment")
    deployment["spec"]["replicass"] = 2
    assert validation_errors(deployment, NEWEST_KUBERNETES) != []
