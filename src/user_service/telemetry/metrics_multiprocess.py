"""Metrics of several worker processes: prometheus-client's objects, backed by the files in
the directory that the workers share (:mod:`.multiprocess_directory`).

Slower than :mod:`.metrics_single_process` (every update takes a lock and writes to a
memory-mapped file), and only used when the server runs several workers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from user_postgres import PoolStatus
from user_service.telemetry import metric_names as names


class SharedHttpMetrics:
    """The HTTP metrics, summed over the workers: a ``HttpMetrics``.

    Label children are made once per (method, route, status) and kept.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            names.HTTP_REQUESTS,
            names.HTTP_REQUESTS_HELP,
            names.HTTP_REQUESTS_LABELS,
            registry=registry,
        )
        self._durations = Histogram(
            names.HTTP_DURATION,
            names.HTTP_DURATION_HELP,
            names.HTTP_DURATION_LABELS,
            buckets=names.LATENCY_BUCKETS,
            registry=registry,
        )
        self._in_flight = Gauge(
            names.HTTP_IN_FLIGHT,
            names.HTTP_IN_FLIGHT_HELP,
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def started(self) -> None:
        """A request has arrived."""
        self._in_flight.inc()

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request was answered ``status`` after ``seconds``."""
        self._in_flight.dec()
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self._requests.labels(method, route, str(status)),
                self._durations.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class SharedStatementMetrics:
    """Statement durations, summed over the workers: a ``StatementMetrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._durations = Histogram(
            names.STATEMENT_DURATION,
            names.STATEMENT_DURATION_HELP,
            names.STATEMENT_DURATION_LABELS,
            buckets=names.LATENCY_BUCKETS,
            registry=registry,
        )
        self._children: dict[str, Histogram] = {}

    def observe(self, operation: str, seconds: float) -> None:
        """Record one statement of ``operation`` that took ``seconds``."""
        child = self._children.get(operation)
        if child is None:
            child = self._children[operation] = self._durations.labels(operation)
        child.observe(seconds)


class SharedPoolGauges:
    """The pool gauges as values that each worker sets, summed over live workers when scraped."""

    def __init__(self, registry: CollectorRegistry) -> None:
        gauge = Gauge(
            names.POOL,
            names.POOL_HELP,
            ("state",),
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._children = {state: gauge.labels(state) for state in names.POOL_STATES}

    def set(self, status: PoolStatus) -> None:
        """Store ``status`` as this process's share."""
        for state, child in self._children.items():
            child.set(getattr(status, state))
