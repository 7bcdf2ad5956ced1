"""The service's Prometheus metrics and their exposition at ``/metrics``.

Names, labels and buckets are agreed with the dashboard and the alerts (:mod:`.metric_names`).
One process counts in plain numbers read at scrape time (:mod:`.metrics_single_process`), which
keeps the request path cheap. Several worker processes share their values through
prometheus-client's multiprocess mode (:mod:`.metrics_multiprocess`, in the directory of
:mod:`.multiprocess_directory`), and whichever worker is scraped answers for all of them.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from pathlib import Path
from time import perf_counter
from typing import Final, Protocol

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Gauge,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from user_postgres import ConnectionPool
from user_service.telemetry import metric_names as names
from user_service.telemetry.metric_names import LATENCY_BUCKETS, POOL_STATES
from user_service.telemetry.metrics_multiprocess import (
    SharedHttpMetrics,
    SharedPoolGauges,
    SharedStatementMetrics,
)
from user_service.telemetry.metrics_single_process import (
    LocalCollector,
    LocalHttpMetrics,
    LocalStatementMetrics,
)

__all__ = [
    "KNOWN_METHODS",
    "LATENCY_BUCKETS",
    "OTHER_METHOD",
    "POOL_STATES",
    "UNMATCHED_ROUTE",
    "HttpMetrics",
    "PoolCollector",
    "ServiceMetrics",
    "StatementMetrics",
    "StatementTimer",
]

UNMATCHED_ROUTE: Final = "<unmatched>"
"""The ``route`` label of a request that matched no route (a 404)."""
OTHER_METHOD: Final = "OTHER"
"""The ``method`` label of a request with a method that no route serves."""
KNOWN_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics(Protocol):
    """Requests by method, route template and status; their durations; requests in flight."""

    def started(self) -> None:
        """A request has arrived."""
        ...

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request was answered ``status`` after ``seconds``; ``method`` is a known one."""
        ...


class StatementMetrics(Protocol):
    """Database statement durations by operation (``get_user``, ``list_users``, …)."""

    def observe(self, operation: str, seconds: float) -> None:
        """Record one statement of ``operation`` that took ``seconds``."""
        ...


class StatementTimer:
    """Times each statement into :class:`StatementMetrics` (a ``user_postgres.StatementObserver``).

    Two clock readings a statement, far cheaper than listening to the engine's events.
    """

    __slots__ = ("_metrics",)

    def __init__(self, metrics: StatementMetrics) -> None:
        self._metrics = metrics

    def started(self, operation: str, _sql: str, /) -> tuple[str, float]:
        """When a statement of ``operation`` started."""
        return operation, perf_counter()

    def finished(self, token: tuple[str, float], _error: BaseException | None, /) -> None:
        """Record the statement's duration, whether it failed or not."""
        operation, started = token
        self._metrics.observe(operation, perf_counter() - started)


class PoolCollector(Collector):
    """Reads the pool's state when scraped: exact, and free between scrapes (one process)."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def collect(self) -> Iterable[Metric]:
        """The pool gauges as they are now."""
        family = GaugeMetricFamily(names.POOL, names.POOL_HELP, labels=("state",))
        status = self._pool.status()
        for state in POOL_STATES:
            family.add_metric((state,), getattr(status, state))
        yield family


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
        self.http: HttpMetrics
        self.statements: StatementMetrics
        self.pool_gauges: SharedPoolGauges | None = None
        if multiprocess_dir is None:
            http, statements = LocalHttpMetrics(), LocalStatementMetrics()
            self._registry.register(LocalCollector(http, statements))
            ProcessCollector(registry=self._registry)
            self.http, self.statements = http, statements
        else:
            self.http = SharedHttpMetrics(self._registry)
            self.statements = SharedStatementMetrics(self._registry)
            self.pool_gauges = SharedPoolGauges(self._registry)
        build_info = Gauge(
            names.BUILD_INFO,
            names.BUILD_INFO_HELP,
            names.BUILD_INFO_LABELS,
            registry=self._registry,
            multiprocess_mode="max",
        )
        build_info.labels(version, platform.python_version()).set(1)

    def watch_pool(self, pool: ConnectionPool) -> None:
        """Report ``pool``: read at each scrape, or sampled into the shared gauges."""
        if self.pool_gauges is None:
            self._registry.register(PoolCollector(pool))

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (of every worker, in multiprocess mode)."""
        if self.multiprocess_dir is None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        path = str(self.multiprocess_dir)
        MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
