"""docker-compose.yml: valid against the Compose Specification, and wired the way the README says.

The schema is the Compose Specification's own JSON schema, as vendored (with its licence) by the
check-jsonschema package, so the check needs no network.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from tests.ops.deployment_files import ROOT
from tests.ops.dockerfile import Dockerfile

MONITORING = ["monitoring"]


def _default(value: str) -> str:
    """``value`` with each ``${NAME:-default}`` replaced by its default, as Compose would unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _compose_specification() -> dict[str, Any]:
    vendored = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(vendored.read_text())
    assert schema["title"] == "Compose Specification"
    return dict(schema)


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = _compose_specification()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(compose)]
    assert errors == []


def test_database_is_postgresql_17_with_a_pg_isready_health_check(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert _default(postgres["image"]).startswith("postgres:17")
    assert postgres["healthcheck"]["test"][0] == "CMD-SHELL"
    assert postgres["healthcheck"]["test"][1].startswith("pg_isready ")


def test_service_waits_for_a_healthy_database(compose: dict[str, Any]) -> None:
    service = compose["services"]["user-service"]
    assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_service_connects_to_the_compose_database(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]["environment"]
    url = urlsplit(compose["services"]["user-service"]["environment"]["USER_SERVICE_DATABASE_URL"])
    assert (url.scheme, url.hostname, url.port) == ("postgresql", "postgres", 5432)
    assert (url.username, url.password, url.path) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        "/" + postgres["POSTGRES_DB"],
    )


def test_service_is_built_from_the_dockerfile_and_published_on_its_port(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    service = compose["services"]["user-service"]
    port = dockerfile.stage("runtime").environment()["USER_SERVICE_PORT"]
    assert service["build"] == {
        "context": ".",
        "dockerfile": "Dockerfile",
        "args": {"PYTHON_IMAGE": "${PYTHON_IMAGE:-python:3.11-slim-bookworm}"},
        "secrets": ["extra-ca"],
    }
    assert [_default(ports) for ports in service["ports"]] == [f"{port}:{port}"]


def test_base_images_default_to_the_dockerfile_and_official_ones(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    python = _default(compose["services"]["user-service"]["build"]["args"]["PYTHON_IMAGE"])
    assert python == dockerfile.arguments["PYTHON_IMAGE"]
    assert _default(compose["services"]["prometheus"]["image"]).startswith("prom/prometheus:v3")


def test_the_build_secret_is_empty_unless_a_ca_is_given(compose: dict[str, Any]) -> None:
    assert compose["secrets"] == {"extra-ca": {"file": "${USER_SERVICE_EXTRA_CA:-/dev/null}"}}


def test_stop_grace_outlasts_the_default_shutdown_grace(compose: dict[str, Any]) -> None:
    from user_service.settings import Settings

    default = Settings.model_fields["shutdown_grace_seconds"].default
    grace = compose["services"]["user-service"]["stop_grace_period"]
    assert grace.endswith("s")
    assert float(grace.removesuffix("s")) > default


def test_prometheus_and_grafana_run_only_in_the_monitoring_profile(
    compose: dict[str, Any],
) -> None:
    profiles = {name: service.get("profiles") for name, service in compose["services"].items()}
    assert profiles == {
        "postgres": None,
        "user-service": None,
        "prometheus": MONITORING,
        "grafana": MONITORING,
    }


def test_every_bind_mount_comes_from_the_repository(compose: dict[str, Any]) -> None:
    sources = [
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert sources
    assert [source for source in sources if not (ROOT / source).exists()] == []
