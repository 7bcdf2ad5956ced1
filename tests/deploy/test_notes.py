"""``NOTES.txt`` renders for every value set and tells what to do next.

``helm template`` leaves NOTES.txt out and ``helm install --dry-run`` needs a cluster, so the
tests render it inside a copy of the chart, wrapped in a ConfigMap.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import (
    CHART,
    MINIMAL,
    NAMESPACE,
    PRODUCTION,
    RELEASE,
    VALUE_SETS_WITH_DEV,
    template,
)


def notes(values: Path | None, tmp_path: Path) -> str:
    chart = tmp_path / "user-service"
    shutil.copytree(CHART, chart)
    text = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "_notes_probe.tpl").write_text(
        '{{- define "probe.notes" -}}\n' + text + "{{- end -}}\n"
    )
    (chart / "templates" / "notes_probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-probe\n"
        'data:\n  notes: {{ include "probe.notes" . | toJson }}\n'
    )
    result = template(values, chart=chart, show_only="templates/notes_probe.yaml")
    assert result.returncode == 0, result.stderr
    rendered: str = yaml.safe_load(result.stdout)["data"]["notes"]
    assert json.dumps(rendered)  # plain text, nothing left unrendered
    return rendered


@pytest.mark.parametrize("values", VALUE_SETS_WITH_DEV.values(), ids=VALUE_SETS_WITH_DEV.keys())
def test_notes_render_with_the_next_steps(values: Path | None, tmp_path: Path) -> None:
    text = notes(values, tmp_path)
    assert "{{" not in text
    assert f"helm test {RELEASE} --namespace {NAMESPACE} --logs" in text
    assert f"port-forward service/{RELEASE} 8080:80" in text
    assert "The API has no authentication" in text


def test_notes_name_the_pooler_and_the_policy_in_production(tmp_path: Path) -> None:
    text = notes(PRODUCTION, tmp_path)
    assert "through PgBouncer (transaction mode) at user-service-db-pooler-rw" in text
    assert "post-install,pre-upgrade hook" in text
    assert "admits only the ingress controller, the test pod and Prometheus" in text
    assert "HorizontalPodAutoscaler keeps 3–20 pods" in text


def test_notes_warn_about_an_exposed_service(tmp_path: Path) -> None:
    text = notes(MINIMAL, tmp_path)
    assert "an external server" in text
    assert "networkPolicy.enabled=true" in text
    assert "WARNING" not in text
    exposed = tmp_path / "exposed.yaml"
    exposed.write_text("service:\n  type: LoadBalancer\n")
    (tmp_path / "again").mkdir()
    assert "WARNING: service.type is LoadBalancer" in notes(exposed, tmp_path / "again")
