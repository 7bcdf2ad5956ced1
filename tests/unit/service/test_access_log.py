"""The access log: one JSON line per request with the agreed keys, and nothing personal."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from starlette.testclient import TestClient

from user_core import User, UserService
from user_core.testing import FixedClock, InMemoryUserRepository
from user_http import create_app
from user_service.telemetry import Telemetry
from user_service.telemetry.logging import (
    FLUSH_SECONDS,
    JsonAccessLog,
    access_log,
    structured_formatter,
)

ACCESS_KEYS = {"event", "level", "timestamp", "logger", "method", "route", "status"} | {
    "duration_ms",
    "request_id",
}


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written so far, each parsed as JSON (which fails if one is not)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class FailingRepository(InMemoryUserRepository):
    """Fails every read with an error that no handler knows."""

    async def get(self, user_id: int) -> User | None:
        raise RuntimeError("the disk is on fire")


@pytest.fixture
def error_log() -> Iterator[io.StringIO]:
    """What the HTTP adapter's catch-all logs, through the service's formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structured_formatter(json=True))
    logger = logging.getLogger("user_http")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def test_each_request_writes_one_json_access_line(
    client: TestClient, log_stream: io.StringIO
) -> None:
    response = client.get("/users/42", headers={"X-Request-ID": "req-1"})

    (line,) = lines(log_stream)
    assert set(line) == ACCESS_KEYS
    assert line["event"] == "request"
    assert line["level"] == "info"
    assert line["logger"] == "user_service.access"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/users/{id}", 404)
    assert line["request_id"] == response.headers["x-request-id"] == "req-1"
    assert 0 < line["duration_ms"] < 10_000
    assert line["timestamp"].endswith("Z")


def test_access_lines_hold_no_names_emails_bodies_or_queries(
    client: TestClient, log_stream: io.StringIO
) -> None:
    client.post("/users", json={"name": "Ada Lovelace", "email": "ada@example.com"})
    client.get("/users", params={"name": "Ada Lovelace", "email": "ada@example.com"})
    client.post("/users", content=b'{"name": "Grace"', headers={"Content-Type": "application/json"})

    written = log_stream.getvalue()
    assert len(lines(log_stream)) == 3
    for secret in ("Ada", "Lovelace", "ada@", "example.com", "Grace", "name="):
        assert secret not in written


def test_traced_requests_log_their_trace_id(service: UserService, log_stream: io.StringIO) -> None:
    telemetry = Telemetry(
        metrics=None,
        tracer_provider=TracerProvider(),
        access_log=access_log(level="info", log_format="json", stream=log_stream),
    )
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    app = create_app(
        service, middleware=telemetry.middleware(), observer=telemetry.request_observer()
    )
    with TestClient(app) as client:
        client.get("/livez", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})

    (line,) = lines(log_stream)
    assert set(line) == ACCESS_KEYS | {"trace_id"}
    assert line["trace_id"] == trace_id


def test_unexpected_errors_are_logged_as_json_with_their_stack_and_request_id(
    error_log: io.StringIO, telemetry: Telemetry, log_stream: io.StringIO
) -> None:
    failing = UserService(FailingRepository(), FixedClock())
    app = create_app(failing, observer=telemetry.request_observer())
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/users/7")

    assert response.status_code == 500
    (error,) = lines(error_log)
    assert error["level"] == "error"
    assert error["logger"] == "user_http.errors"
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["exception"].startswith("Traceback")
    assert "RuntimeError: the disk is on fire" in error["exception"]
    assert "the disk is on fire" not in response.text
    (access,) = lines(log_stream)
    assert (access["status"], access["request_id"]) == (500, error["request_id"])


def test_console_lines_are_for_people(service: UserService) -> None:
    stream = io.StringIO()
    app = create_app(
        service,
        observer=Telemetry(
            metrics=None,
            tracer_provider=None,
            access_log=access_log(level="info", log_format="console", stream=stream),
        ).request_observer(),
    )
    with TestClient(app) as client:
        client.get("/livez")

    line = stream.getvalue()
    assert "request" in line
    assert "route=/livez" in line
    assert not line.startswith("{")


@pytest.mark.parametrize("level", ["warning", "error"])
def test_no_access_log_is_built_when_its_level_is_hidden(level: str) -> None:
    assert access_log(level=level, log_format="json") is None  # type: ignore[arg-type]


class CountingStream(io.StringIO):
    """A stream that counts its flushes."""

    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_lines_of_a_busy_moment_leave_in_one_flush_soon_after() -> None:
    stream = CountingStream()
    log = JsonAccessLog(stream)

    async def busy_moment() -> int:
        for number in range(3):
            log.record("GET", "/livez", 200, 0.001, request_id=f"req-{number}", trace_id=None)
        flushed_at_once = stream.flushes
        await asyncio.sleep(FLUSH_SECONDS * 2)
        return flushed_at_once

    assert asyncio.run(busy_moment()) == 0
    assert stream.flushes == 1
    assert [line["request_id"] for line in lines(stream)] == ["req-0", "req-1", "req-2"]


def test_outside_an_event_loop_each_line_is_flushed_at_once() -> None:
    stream = CountingStream()
    log = JsonAccessLog(stream)

    log.record("GET", "/livez", 200, 0.001, request_id="req-0", trace_id=None)

    assert stream.flushes == 1
