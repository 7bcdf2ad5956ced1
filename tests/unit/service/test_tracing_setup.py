"""Tracing is on only when the standard OpenTelemetry variables ask for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from user_service.telemetry.tracing import tracer_provider_from_environment, tracing_requested

OTEL_VARIABLES = (
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
)


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment that says nothing about OpenTelemetry."""
    for variable in OTEL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def built() -> Iterator[list[TracerProvider]]:
    """Shuts down the providers a test builds (their batch processors run threads)."""
    providers: list[TracerProvider] = []
    yield providers
    for provider in providers:
        provider.shutdown()


@pytest.mark.parametrize(
    ("environment", "requested"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_tracing_is_requested_by_an_exporter_or_an_endpoint(
    environment: dict[str, str], requested: bool
) -> None:
    assert tracing_requested(environment) is requested


def test_nothing_is_built_when_nothing_is_asked() -> None:
    assert tracer_provider_from_environment("1.0") is None


def test_an_otlp_endpoint_builds_a_provider_named_for_the_service(
    monkeypatch: pytest.MonkeyPatch, built: list[TracerProvider]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")

    provider = tracer_provider_from_environment("1.0")

    assert provider is not None
    built.append(provider)
    assert provider.resource.attributes["service.name"] == "user-service"
    assert provider.resource.attributes["service.version"] == "1.0"


def test_otel_service_name_wins(
    monkeypatch: pytest.MonkeyPatch, built: list[TracerProvider]
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "users-eu")

    provider = tracer_provider_from_environment("1.0")

    assert provider is not None
    built.append(provider)
    assert provider.resource.attributes["service.name"] == "users-eu"


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "http/protobuf"),
        ("OTEL_TRACES_EXPORTER", "zipkin", "not installed"),
    ],
)
def test_an_exporter_that_cannot_be_had_fails_at_start(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, complaint: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValueError, match=complaint):
        tracer_provider_from_environment("1.0")
