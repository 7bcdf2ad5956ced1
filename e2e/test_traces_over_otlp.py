"""With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, the real server sends its spans there over OTLP/HTTP.

A stand-in collector on a local port receives them: a server span per request continuing the
caller's ``traceparent``, a child span per statement, and the access line names the trace.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2 as httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from e2e.server import RunningServer, start_server
from user_postgres.testing import ScratchDatabases

TRACE_ID = "5b8efff798038103d269b633813fc60c"
CALLER_SPAN_ID = "eee19b7ec3c1b174"
EXPORT_TIMEOUT = 10.0


class Collector(ThreadingHTTPServer):
    """Keeps every span posted to ``/v1/traces``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ExportHandler)
        self.spans: list[Span] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ExportHandler(BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest.FromString(body)
        if self.path == "/v1/traces":
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    self.server.spans.extend(scope_spans.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def traced_server(
    scratch_databases: ScratchDatabases, collector: Collector, tmp_path: Path
) -> Iterator[RunningServer]:
    database_url = asyncio.run(scratch_databases.create())
    environment = {
        "USER_SERVICE_DATABASE_URL": database_url,
        "USER_SERVICE_LOG_LEVEL": "info",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds between exports
    }
    running = start_server(environment, tmp_path / "server.log")
    try:
        yield running
    finally:
        status = running.stop()
        asyncio.run(scratch_databases.drop(database_url))
    assert status == 0, running.log.read_text()


def test_spans_reach_an_otlp_collector(traced_server: RunningServer, collector: Collector) -> None:
    with httpx.Client(base_url=traced_server.base_url, timeout=10) as client:
        user_url = client.post("/users", json={"name": "exported"}).headers["location"]
        traceparent = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
        assert client.get(user_url, headers={"traceparent": traceparent}).status_code == 200

    deadline = time.monotonic() + EXPORT_TIMEOUT
    while not [span for span in collector.spans if span.name == "get_user"]:
        assert time.monotonic() < deadline, [span.name for span in collector.spans]
        time.sleep(0.1)

    (request,) = [span for span in collector.spans if span.name == "GET /users/{id}"]
    assert request.trace_id.hex() == TRACE_ID
    assert request.parent_span_id.hex() == CALLER_SPAN_ID
    assert request.kind == Span.SPAN_KIND_SERVER
    (statement,) = [span for span in collector.spans if span.parent_span_id == request.span_id]
    assert statement.name == "get_user"
    while '"route":"/users/{id}"' not in traced_server.log.read_text():
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.05)
    lines = [json.loads(line) for line in traced_server.log.read_text().splitlines()]
    (access,) = [line for line in lines if line.get("route") == "/users/{id}"]
    assert access["trace_id"] == TRACE_ID
