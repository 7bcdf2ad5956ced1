"""The service's telemetry as one object: what is on, its middleware, and its life."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final

from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware

from user_postgres import ConnectionPool, StatementObserver
from user_service.settings import Settings
from user_service.telemetry.database import StatementSpans
from user_service.telemetry.http import RequestTelemetry
from user_service.telemetry.logging import AccessLog, access_log
from user_service.telemetry.metrics import ServiceMetrics, StatementTimer
from user_service.telemetry.multiprocess_directory import (
    forget_dead_processes,
    forget_this_process,
    shared_directory,
)
from user_service.telemetry.tracing import TracingMiddleware

POOL_SAMPLE_SECONDS: Final = 1.0
"""How often each worker stores its pool's state, with several workers (scrapes are rarer)."""
SPAN_FLUSH_MILLISECONDS: Final = 5_000


def service_version() -> str:
    """The installed version of the service's distribution."""
    try:
        return metadata.version("user-service")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class Telemetry:
    """What the service reports about itself; each part is ``None`` when it is off.

    :meth:`middleware` goes to ``create_app(middleware=...)``, :meth:`request_observer` to
    its ``observer`` and :attr:`metrics` to its ``metrics``; :meth:`statement_observer` to the
    repository; :meth:`watch` is given the pool and the engine once, and :meth:`running` spans
    the app's lifespan.
    """

    metrics: ServiceMetrics | None
    tracer_provider: TracerProvider | None
    access_log: AccessLog | None

    @classmethod
    def from_settings(
        cls, settings: Settings, tracer_provider: TracerProvider | None = None
    ) -> Telemetry:
        """Metrics and the access log as ``settings`` say; traces when a provider is given.

        Metrics are shared between processes when ``PROMETHEUS_MULTIPROC_DIR`` is set.
        """
        metrics = None
        if settings.metrics_enabled:
            metrics = ServiceMetrics(
                version=service_version(), multiprocess_dir=shared_directory(os.environ)
            )
        log = None
        if settings.access_log:
            log = access_log(level=settings.log_level, log_format=settings.log_format)
        return cls(metrics=metrics, tracer_provider=tracer_provider, access_log=log)

    def middleware(self) -> list[Middleware]:
        """The request middleware, outermost first: tracing, when it is on."""
        if self.tracer_provider is None:
            return []
        tracer = self.tracer_provider.get_tracer("user_service", service_version())
        return [Middleware(TracingMiddleware, tracer=tracer)]

    def request_observer(self) -> RequestTelemetry | None:
        """What the app tells of each request (metrics, the access log); ``None`` when off."""
        http_metrics = None if self.metrics is None else self.metrics.http
        if http_metrics is None and self.access_log is None:
            return None
        return RequestTelemetry(metrics=http_metrics, access_log=self.access_log)

    def statement_observer(self, pool: ConnectionPool) -> StatementObserver[Any] | None:
        """What the repository on ``pool`` tells of each statement: metrics, spans, or both."""
        timer = None if self.metrics is None else StatementTimer(self.metrics.statements)
        spans = self._statement_spans(pool.database)
        if timer is not None and spans is not None:
            return _Both(timer, spans)
        return timer or spans

    def watch(self, pool: ConnectionPool, engine: AsyncEngine) -> None:
        """Report ``pool``, and trace the statements run through ``engine``; call once.

        The repository's statements run on ``pool``: they are told to
        :meth:`statement_observer`. The engine runs the migrations.
        """
        if self.metrics is not None:
            self.metrics.watch_pool(pool)
        spans = self._statement_spans(engine.url.database or "")
        if spans is not None:
            spans.listen(engine)

    def _statement_spans(self, database: str) -> StatementSpans | None:
        if self.tracer_provider is None:
            return None
        tracer = self.tracer_provider.get_tracer("user_service.database", service_version())
        return StatementSpans(tracer, database)

    @asynccontextmanager
    async def running(self, pool: ConnectionPool) -> AsyncIterator[None]:
        """While the app serves: share the pool's state with other workers; then flush output."""
        sampler = None
        metrics = self.metrics
        if metrics is not None and metrics.multiprocess_dir is not None:
            forget_dead_processes(metrics.multiprocess_dir)
            sampler = asyncio.create_task(_sample_pool(metrics, pool))
        try:
            yield
        finally:
            if sampler is not None:
                sampler.cancel()
                with suppress(asyncio.CancelledError):
                    await sampler
            if metrics is not None and metrics.multiprocess_dir is not None:
                forget_this_process(metrics.multiprocess_dir)
            if self.access_log is not None:
                self.access_log.flush()
            if self.tracer_provider is not None:
                await run_in_threadpool(self.tracer_provider.force_flush, SPAN_FLUSH_MILLISECONDS)


class _Both:
    """Two statement observers, told in turn: their tokens are kept side by side."""

    __slots__ = ("_first", "_second")

    def __init__(self, first: StatementObserver[Any], second: StatementObserver[Any]) -> None:
        self._first = first
        self._second = second

    def started(self, operation: str, sql: str) -> tuple[Any, Any]:
        return self._first.started(operation, sql), self._second.started(operation, sql)

    def finished(self, token: tuple[Any, Any], error: BaseException | None) -> None:
        self._first.finished(token[0], error)
        self._second.finished(token[1], error)


async def _sample_pool(metrics: ServiceMetrics, pool: ConnectionPool) -> None:
    gauges = metrics.pool_gauges
    assert gauges is not None
    while True:
        gauges.set(pool.status())
        await asyncio.sleep(POOL_SAMPLE_SECONDS)
