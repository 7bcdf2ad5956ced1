"""What the service tells about itself: Prometheus metrics, OpenTelemetry traces, JSON logs.

The composition root builds one :class:`Telemetry` from the settings and the ``OTEL_*``
variables; the adapters stay unaware of it. The HTTP adapter takes its middleware and serves its
metrics at ``/metrics``; the PostgreSQL adapter names each statement's operation, and the
engine's events do the rest.

- :mod:`.metrics`: metric names, labels and buckets, and their exposition.
- :mod:`.multiprocess`: metrics shared between worker processes.
- :mod:`.http`: the request middleware (metrics and access line).
- :mod:`.database`: statement durations and spans.
- :mod:`.tracing`: the tracer provider from the environment, and the server span middleware.
- :mod:`.logging`: log lines as JSON or for the console; uvicorn's logging configuration.
"""

from user_service.telemetry.wiring import Telemetry, service_version

__all__ = ["Telemetry", "service_version"]
