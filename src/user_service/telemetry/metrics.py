"""The service's Prometheus metrics and their exposition at ``/metrics``.

Names, labels and buckets are agreed with the dashboard and the alerts: change them together.
With several worker processes, prometheus-client's multiprocess mode shares the values through
files in ``PROMETHEUS_MULTIPROC_DIR`` (see :mod:`user_service.telemetry.multiprocess`), and every
worker's ``/metrics`` answers for all of them.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from user_postgres import PoolStatus, pool_status

LATENCY_BUCKETS: Final = (
    0.001,
    0.0025,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.075,
    0.1,
    0.15,
    0.25,
    0.5,
    1.0,
    2.5,
)
"""Seconds; fine from 1 to 250 ms, where this service's requests and statements fall."""

UNMATCHED_ROUTE: Final = "<unmatched>"
"""The ``route`` label of a request that matched no route (a 404)."""
OTHER_METHOD: Final = "OTHER"
"""The ``method`` label of a request with a method that no route serves."""
KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

POOL_STATES: Final = ("size", "checked_out", "overflow", "waiting")
"""The ``state`` label of ``user_service_db_pool_connections``, one per field of PoolStatus."""

_POOL_METRIC = "user_service_db_pool_connections"
_POOL_HELP = (
    "Database connection pool: configured size, connections in use, connections beyond the "
    "size, and callers waiting for a connection."
)


class HttpMetrics:
    """Requests by method, route template and status; their durations; requests in flight.

    The label children of each (method, route, status) are made once and kept, so counting a
    request is a dictionary look-up and two updates.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests = Counter(
            "user_service_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=registry,
        )
        self._durations = Histogram(
            "user_service_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response, by method and route.",
            ("method", "route"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight: Final = Gauge(
            "user_service_http_requests_in_flight",
            "HTTP requests being served now.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration; ``method`` must be a known one."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self._requests.labels(method, route, str(status)),
                self._durations.labels(method, route),
            )
        children[0].inc()
        children[1].observe(seconds)


class StatementMetrics:
    """Database statement durations by operation (``get_user``, ``list_users``, …)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._durations = Histogram(
            "user_service_db_statement_duration_seconds",
            "Time to run one database statement and read its result, by operation.",
            ("operation",),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._children: dict[str, Histogram] = {}

    def observe(self, operation: str, seconds: float) -> None:
        """Record one statement of ``operation`` that took ``seconds``."""
        child = self._children.get(operation)
        if child is None:
            child = self._children[operation] = self._durations.labels(operation)
        child.observe(seconds)


class PoolCollector(Collector):
    """Reads the pool's state when scraped: exact, and free between scrapes (one process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterable[Metric]:
        """The pool gauges as they are now."""
        family = GaugeMetricFamily(_POOL_METRIC, _POOL_HELP, labels=("state",))
        status = pool_status(self._engine)
        for state in POOL_STATES:
            family.add_metric((state,), getattr(status, state))
        yield family


class PoolGauges:
    """The pool gauges as values that a worker sets, summed over live workers when scraped."""

    def __init__(self, registry: CollectorRegistry) -> None:
        gauge = Gauge(
            _POOL_METRIC, _POOL_HELP, ("state",), registry=registry, multiprocess_mode="livesum"
        )
        self._children = {state: gauge.labels(state) for state in POOL_STATES}

    def set(self, status: PoolStatus) -> None:
        """Store ``status`` as this process's share."""
        for state, child in self._children.items():
            child.set(getattr(status, state))


class ServiceMetrics:
    """Every metric of one service process, and their exposition (a ``MetricsExposition``).

    ``multiprocess_dir`` is where the workers of one server share their values (prometheus-client
    must have been imported with ``PROMETHEUS_MULTIPROC_DIR`` naming it); ``None`` keeps them in
    this process, with the process's CPU and memory besides.
    """

    media_type: Final = CONTENT_TYPE_PLAIN_0_0_4

    def __init__(self, *, version: str, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir: Final = multiprocess_dir
        self._registry = CollectorRegistry()
        self.http: Final = HttpMetrics(self._registry)
        self.statements: Final = StatementMetrics(self._registry)
        self.pool_gauges: Final = None if multiprocess_dir is None else PoolGauges(self._registry)
        build_info = Gauge(
            "user_service_build_info",
            "Always 1; the labels tell the running version and Python.",
            ("version", "python"),
            registry=self._registry,
            multiprocess_mode="max",
        )
        build_info.labels(version, platform.python_version()).set(1)
        if multiprocess_dir is None:
            ProcessCollector(registry=self._registry)

    def watch_pool(self, engine: AsyncEngine) -> None:
        """Report the pool of ``engine``: read at each scrape, or sampled into the shared gauges."""
        if self.pool_gauges is None:
            self._registry.register(PoolCollector(engine))

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (of every worker, in multiprocess mode)."""
        if self.multiprocess_dir is None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        path = str(self.multiprocess_dir)
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
