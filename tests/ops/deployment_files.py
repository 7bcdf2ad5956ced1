"""Where the deployment files live in the repository, and how to read them as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import yaml

ROOT: Final = Path(__file__).parents[2]
DASHBOARD: Final = "deploy/grafana/user-service-dashboard.json"
"""The dashboard's one home: Compose mounts it, the Helm chart ships it."""
PROMETHEUS_CONFIG: Final = "deploy/prometheus/prometheus.yml"
GRAFANA_PROVISIONING: Final = "deploy/grafana/provisioning"


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML document whose top level is a mapping."""
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def load_json(path: Path) -> dict[str, Any]:
    """A JSON document whose top level is an object."""
    document = json.loads(path.read_text())
    assert isinstance(document, dict), f"{path} is not a JSON object"
    return document
