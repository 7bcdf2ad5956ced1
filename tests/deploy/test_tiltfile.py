"""The Tiltfile parses as Tilt's Starlark and, run with stand-ins for Tilt's built-ins, sets up
the dev loop the README promises: the Kind context only, CloudNativePG before the chart, the
image with live update of ``src/``, port-forwards, labels, and ``tilt ci`` running the smoke Job.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import starlark
import yaml

from tests.deploy.chart import CHART, DEV, ROOT
from tests.deploy.tiltfile import Evaluation, evaluate, parse


@pytest.fixture(scope="module")
def up() -> Evaluation:
    return evaluate("up")


@pytest.fixture(scope="module")
def ci() -> Evaluation:
    return evaluate("ci")


def test_tiltfile_parses() -> None:
    loads = [(load.module_id, sorted(load.symbols)) for load in parse().loads()]
    assert loads == [("ext://helm_resource", ["helm_repo", "helm_resource"])]


def test_a_syntax_error_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "Tiltfile"
    broken.write_text('local_resource("x", cmd="true"\n')
    with pytest.raises(starlark.StarlarkError):
        parse(broken)


def test_only_the_kind_cluster_is_allowed(up: Evaluation) -> None:
    kind_cluster = yaml.safe_load((ROOT / "deploy" / "kind" / "cluster.yaml").read_text())
    [allowed] = up.of("allow_k8s_contexts")
    assert allowed.args == (f"kind-{kind_cluster['name']}",)
    assert allowed.args == ("kind-user-service",)


def test_image_is_the_dockerfile_plus_a_dev_stage_with_live_update(up: Evaluation) -> None:
    [build] = up.of("docker_build")
    assert build.args == ("user-service", ".")
    dockerfile = (ROOT / "Dockerfile").read_text()
    contents = build.kwargs["dockerfile_contents"]
    assert contents.startswith(dockerfile)
    assert re.search(r"^FROM \S+ AS runtime$", dockerfile, re.MULTILINE), "no runtime stage"
    assert "FROM runtime AS dev" in contents
    assert build.kwargs["target"] == "dev"
    steps = [(step["tilt"], step["args"]) for step in build.kwargs["live_update"]]
    assert steps == [
        ("fall_back_on", [["pyproject.toml", "requirements/"]]),
        ("sync", ["src/", "/app/src/"]),
        ("sync", ["migrations/", "/app/src/user_postgres/migrations/"]),
    ]


def test_the_dev_stage_keeps_the_migrations_where_the_wheel_puts_them(up: Evaluation) -> None:
    # /app/src first on PYTHONPATH shadows the installed user_postgres, whose migrations
    # subpackage the wheel maps from the repository's migrations/ folder (package-dir).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mapped = {k: v for k, v in pyproject["tool"]["setuptools"]["package-dir"].items() if k}
    assert mapped == {"user_postgres.migrations": "migrations"}
    [build] = up.of("docker_build")
    contents = build.kwargs["dockerfile_contents"]
    assert "COPY --chown=10001:10001 migrations/ /app/src/user_postgres/migrations/" in contents


def test_dev_values_reload_the_synced_sources(up: Evaluation) -> None:
    [build] = up.of("docker_build")
    assert "ENV PYTHONPATH=/app/src" in build.kwargs["dockerfile_contents"]
    values = yaml.safe_load(DEV.read_text())
    assert "--reload" in values["args"]
    assert "--reload-dir=/app/src" in values["args"]
    assert values["securityContext"]["readOnlyRootFilesystem"] is False


def test_chart_is_installed_with_the_built_image_and_dev_values(up: Evaluation) -> None:
    release = up.resource("user-service")
    assert release.function == "helm_resource"
    assert release.args == ("user-service", "helm/user-service")
    assert ROOT / release.args[1] == CHART
    assert release.kwargs["image_deps"] == ["user-service"]
    assert [tuple(keys) for keys in release.kwargs["image_keys"]] == [
        ("image.repository", "image.tag")
    ]
    assert "--values=deploy/kind/values-dev.yaml" in release.kwargs["flags"]
    assert release.kwargs["port_forwards"] == ["8080:8080"]
    assert "--set=serviceMonitor.enabled=true" in release.kwargs["flags"]


def test_database_comes_before_the_chart(up: Evaluation) -> None:
    assert "database" in up.resource("user-service").kwargs["resource_deps"]
    assert up.resource("database").kwargs["resource_deps"] == ["cnpg-operator"]
    operator = up.resource("cnpg-operator").kwargs["cmd"]
    assert re.search(r"kubectl apply --server-side .*releases/cnpg-[\d.]+\.yaml", operator)
    database = yaml.safe_load_all((ROOT / "deploy" / "kind" / "database.yaml").read_text())
    cluster = next(doc for doc in database if doc["kind"] == "Cluster")
    dev_cluster = yaml.safe_load(DEV.read_text())["database"]["cloudnativepg"]["clusterName"]
    assert cluster["metadata"]["name"] == dev_cluster
    assert f"cluster/{dev_cluster}" in up.resource("database").kwargs["cmd"]


def test_grafana_is_forwarded_in_tilt_up(up: Evaluation) -> None:
    grafana = up.resource("grafana")
    assert "port-forward service/monitoring-grafana 3000:80" in grafana.kwargs["serve_cmd"]
    assert up.resource("monitoring").kwargs["resource_deps"] == ["prometheus-community"]


@pytest.mark.parametrize("subcommand", ["up", "ci"])
def test_every_resource_has_labels_and_known_dependencies(subcommand: str) -> None:
    evaluation = evaluate(subcommand)
    names = {call.name for call in evaluation.resources()}
    for resource in evaluation.resources():
        assert resource.kwargs.get("labels"), f"{resource.name} has no labels"
        assert set(resource.kwargs.get("resource_deps", [])) <= names, resource.name
        for path in resource.kwargs.get("deps", []):
            assert (ROOT / path).exists(), f"{resource.name} watches a missing {path}"


def test_tilt_ci_runs_the_smoke_job_without_monitoring(ci: Evaluation) -> None:
    smoke = ci.resource("smoke-test")
    assert smoke.kwargs["cmd"].startswith("helm test user-service --namespace user-service")
    assert smoke.kwargs["auto_init"] is True
    assert smoke.kwargs["resource_deps"] == ["user-service"]
    names = {call.name for call in ci.resources()}
    assert not names & {"monitoring", "grafana", "prometheus-community"}
    assert "--set=serviceMonitor.enabled=true" not in ci.resource("user-service").kwargs["flags"]


def test_tilt_up_leaves_the_smoke_job_to_a_button(up: Evaluation) -> None:
    smoke = up.resource("smoke-test")
    assert smoke.kwargs["auto_init"] is False
    assert smoke.kwargs["trigger_mode"] == "manual"
