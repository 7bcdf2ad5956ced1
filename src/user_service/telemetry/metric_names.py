"""The agreed metric names, help texts, labels and buckets: the dashboard and alerts use them."""

from __future__ import annotations

from typing import Final

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

HTTP_REQUESTS: Final = "user_service_http_requests"
"""A counter: exposed as ``user_service_http_requests_total``."""
HTTP_REQUESTS_HELP: Final = "HTTP requests answered, by method, route template and status."
HTTP_REQUESTS_LABELS: Final = ("method", "route", "status")

HTTP_DURATION: Final = "user_service_http_request_duration_seconds"
HTTP_DURATION_HELP: Final = (
    "Time from a request's arrival to the end of its response, by method and route."
)
HTTP_DURATION_LABELS: Final = ("method", "route")

HTTP_IN_FLIGHT: Final = "user_service_http_requests_in_flight"
HTTP_IN_FLIGHT_HELP: Final = "HTTP requests being served now."

STATEMENT_DURATION: Final = "user_service_db_statement_duration_seconds"
STATEMENT_DURATION_HELP: Final = (
    "Time to run one database statement and receive its rows, by operation."
)
STATEMENT_DURATION_LABELS: Final = ("operation",)

POOL: Final = "user_service_db_pool_connections"
POOL_HELP: Final = (
    "Database connection pool: configured size, connections in use, connections beyond the "
    "size, and callers waiting for a connection."
)
POOL_STATES: Final = ("size", "checked_out", "overflow", "waiting")
"""The ``state`` label, one per field of :class:`user_postgres.PoolStatus`."""

BUILD_INFO: Final = "user_service_build_info"
BUILD_INFO_HELP: Final = "Always 1; the labels tell the running version and Python."
BUILD_INFO_LABELS: Final = ("version", "python")
