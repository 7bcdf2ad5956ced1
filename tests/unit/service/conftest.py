"""Fixtures of the telemetry unit tests: the HTTP app over the in-memory service, instrumented.

No database: statement metrics and spans are tested in ``tests/integration/telemetry``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from user_core import UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app
from user_service.telemetry import Telemetry
from user_service.telemetry.logging import access_log
from user_service.telemetry.metrics import ServiceMetrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    """Every sample that ``/metrics`` serves now, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**values: str) -> frozenset[tuple[str, str]]:
    """The label set of a sample, as :func:`scrape` keys it."""
    return frozenset(values.items())


@pytest.fixture
def service() -> UserService:
    """The service under the app, in memory."""
    return UserService(InMemoryUserRepository(), FixedClock(tick=timedelta(seconds=1)))


@pytest.fixture
def log_stream() -> io.StringIO:
    """Where the access log writes."""
    return io.StringIO()


@pytest.fixture
def telemetry(log_stream: io.StringIO) -> Telemetry:
    """Metrics of this test's own and a JSON access log into :func:`log_stream`; no traces."""
    return Telemetry(
        metrics=ServiceMetrics(version="1.2.3"),
        tracer_provider=None,
        access_log=access_log(level="info", log_format="json", stream=log_stream),
    )


@pytest.fixture
def app(service: UserService, telemetry: Telemetry) -> Starlette:
    """The HTTP API with the telemetry's middleware and ``/metrics``."""
    return create_app(service, observer=telemetry.request_observer(), metrics=telemetry.metrics)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A client that runs the app's lifespan."""
    with TestClient(app) as client:
        yield client
