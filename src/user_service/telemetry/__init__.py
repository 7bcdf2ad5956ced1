"""What the service tells about itself: Prometheus metrics, OpenTelemetry traces, JSON logs.

The composition root builds one :class:`Telemetry` from the settings and the ``OTEL_*``
variables; the adapters import no telemetry library. The HTTP adapter takes its middleware and
serves its metrics at ``/metrics``; the PostgreSQL repository names each statement's operation
and tells a :class:`user_postgres.StatementObserver` of each as it starts and ends, which times
it (metrics) and traces it (a span, when tracing is on).

- :mod:`.metrics`: the metrics and their exposition; their names, labels and buckets in
  :mod:`.metric_names`; one process counts in :mod:`.metrics_single_process`, several workers
  share theirs through :mod:`.metrics_multiprocess`.
- :mod:`.multiprocess_directory`: the directory through which worker processes share metrics.
- :mod:`.http`: the request middleware (metrics and access line).
- :mod:`.database`: a span per statement.
- :mod:`.tracing`: the tracer provider from the environment, and the server span middleware.
- :mod:`.logging`: log lines as JSON or for the console, through one writer on stdout
  (:mod:`.log_output`); uvicorn's logging configuration.
"""

from user_service.telemetry.wiring import Telemetry, service_version

__all__ = ["Telemetry", "service_version"]
