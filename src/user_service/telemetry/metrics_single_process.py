"""Metrics of a single process, counted in plain Python numbers and read when scraped.

The request path only bumps integers (no locks, no metric objects): a handful of cheap
operations per request. Scrapes run in a worker thread and read copies, taken atomically under
the GIL; a scrape may see a duration's count a moment before its sum, never a torn number.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from user_service.telemetry import metric_names as names

_BOUNDS = names.LATENCY_BUCKETS
_BUCKET_LABELS = (*(floatToGoString(b) for b in _BOUNDS), "+Inf")  # type: ignore[no-untyped-call]


class LocalHistogram:
    """Counts per bucket (the last is +Inf) and the sum of the values observed."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(_BOUNDS) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count ``value`` in the first bucket whose bound it does not exceed."""
        self.counts[bisect_left(_BOUNDS, value)] += 1
        self.sum += value

    def cumulative(self) -> tuple[list[tuple[str, float]], float]:
        """The buckets as Prometheus exposes them (each counts all below it), and the sum."""
        counts, total = list(self.counts), self.sum
        buckets = []
        running = 0
        for label, count in zip(_BUCKET_LABELS, counts, strict=True):
            running += count
            buckets.append((label, float(running)))
        return buckets, total


class _Series:
    """One (method, route, status): its count, and the duration histogram of (method, route)."""

    __slots__ = ("count", "durations")

    def __init__(self, durations: LocalHistogram) -> None:
        self.count = 0
        self.durations = durations


class LocalHttpMetrics:
    """The HTTP metrics of this process: a :class:`~user_service.telemetry.metrics.HttpMetrics`."""

    __slots__ = ("_durations", "_series", "in_flight")

    def __init__(self) -> None:
        self.in_flight = 0
        self._series: dict[tuple[str, str, int], _Series] = {}
        self._durations: dict[tuple[str, str], LocalHistogram] = {}

    def started(self) -> None:
        """A request has arrived."""
        self.in_flight += 1

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request was answered ``status`` after ``seconds``."""
        self.in_flight -= 1
        series = self._series.get((method, route, status))
        if series is None:
            durations = self._durations.setdefault((method, route), LocalHistogram())
            series = self._series[method, route, status] = _Series(durations)
        series.count += 1
        series.durations.observe(seconds)

    def collect(self) -> Iterator[Metric]:
        """The requests counter, the duration histograms and the in-flight gauge, now."""
        requests = CounterMetricFamily(
            names.HTTP_REQUESTS, names.HTTP_REQUESTS_HELP, labels=names.HTTP_REQUESTS_LABELS
        )
        for (method, route, status), series in self._series.copy().items():
            requests.add_metric((method, route, str(status)), series.count)
        yield requests
        durations = HistogramMetricFamily(
            names.HTTP_DURATION, names.HTTP_DURATION_HELP, labels=names.HTTP_DURATION_LABELS
        )
        for labels, histogram in self._durations.copy().items():
            buckets, total = histogram.cumulative()
            durations.add_metric(labels, buckets, total)
        yield durations
        yield GaugeMetricFamily(names.HTTP_IN_FLIGHT, names.HTTP_IN_FLIGHT_HELP, self.in_flight)


class LocalStatementMetrics:
    """Statement durations of this process: a ``StatementMetrics``."""

    __slots__ = ("_durations",)

    def __init__(self) -> None:
        self._durations: dict[str, LocalHistogram] = {}

    def observe(self, operation: str, seconds: float) -> None:
        """Record one statement of ``operation`` that took ``seconds``."""
        histogram = self._durations.get(operation)
        if histogram is None:
            histogram = self._durations[operation] = LocalHistogram()
        histogram.observe(seconds)

    def collect(self) -> Iterator[Metric]:
        """The duration histogram of every operation seen, now."""
        family = HistogramMetricFamily(
            names.STATEMENT_DURATION,
            names.STATEMENT_DURATION_HELP,
            labels=names.STATEMENT_DURATION_LABELS,
        )
        for operation, histogram in self._durations.copy().items():
            buckets, total = histogram.cumulative()
            family.add_metric((operation,), buckets, total)
        yield family


class LocalCollector(Collector):
    """Exposes local metrics to a registry."""

    def __init__(self, *sources: LocalHttpMetrics | LocalStatementMetrics) -> None:
        self._sources = sources

    def collect(self) -> Iterable[Metric]:
        """Every family of every source."""
        for source in self._sources:
            yield from source.collect()
