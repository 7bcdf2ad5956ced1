"""One process counts in plain numbers, several share prometheus-client's objects: same output."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from user_service.telemetry.metrics import HttpMetrics, StatementMetrics
from user_service.telemetry.metrics_multiprocess import SharedHttpMetrics, SharedStatementMetrics
from user_service.telemetry.metrics_single_process import (
    LocalCollector,
    LocalHttpMetrics,
    LocalStatementMetrics,
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def exposed(registry: CollectorRegistry) -> Samples:
    text = generate_latest(registry).decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")  # prometheus-client's own, not ours
    }


def count_the_same_things(http: HttpMetrics, statements: StatementMetrics) -> None:
    for method, route, status, seconds in [
        ("GET", "/users/{id}", 200, 0.0004),
        ("GET", "/users/{id}", 200, 0.005),  # on a bucket's bound: counted in that bucket
        ("GET", "/users/{id}", 404, 0.02),
        ("POST", "/users", 201, 3.5),  # beyond the last bound: +Inf only
        ("GET", "<unmatched>", 404, 0.0001),
    ]:
        http.started()
        http.finished(method, route, status, seconds)
    http.started()  # one still in flight
    statements.observe("get_user", 0.0007)
    statements.observe("get_user", 0.0012)
    statements.observe("list_users", 0.3)


def test_local_and_shared_metrics_expose_the_same_samples() -> None:
    local_http, local_statements = LocalHttpMetrics(), LocalStatementMetrics()
    local = CollectorRegistry()
    local.register(LocalCollector(local_http, local_statements))
    shared = CollectorRegistry()
    shared_http, shared_statements = SharedHttpMetrics(shared), SharedStatementMetrics(shared)

    count_the_same_things(local_http, local_statements)
    count_the_same_things(shared_http, shared_statements)

    local_samples = exposed(local)
    assert local_samples == exposed(shared)
    user = frozenset({"method": "GET", "route": "/users/{id}"}.items())
    assert local_samples["user_service_http_request_duration_seconds_count", user] == 3
    five_ms = frozenset({"method": "GET", "route": "/users/{id}", "le": "0.005"}.items())
    assert local_samples["user_service_http_request_duration_seconds_bucket", five_ms] == 2
    assert local_samples["user_service_http_requests_in_flight", frozenset()] == 1
