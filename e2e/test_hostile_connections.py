"""Hostile clients over real TCP against ``user-service serve``: what only a raw socket sends.

Decisions these tests pin down (RELIABILITY.md repeats them):

- A body sent slowly is waited for: uvicorn has no timeout for reading a request body (only
  ``timeout_keep_alive`` between requests), so a slow but live client succeeds. A stalled upload
  costs a socket and a coroutine, never a database connection: the body is read whole before
  the service is called. Cutting off slow or stalled clients (slowloris) is the ingress's job.
- CR or LF inside a header, and a request line over 64 KiB, never reach the application:
  httptools refuses them and uvicorn answers its own ``400`` (``text/plain``, connection closed),
  so these are the only refusals without a problem body. Nothing is stored either way.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx2 as httpx
import pytest

from e2e.raw_http import connection, exchange, gauge, read_response
from e2e.server import RunningServer

SLOW_CHUNK_PAUSE = 0.1  # seconds between the bytes of a slow body
STALLED_UPLOADS = 20


def _total(api: httpx.Client) -> int:
    total: int = api.get("/users", params={"total": "true", "limit": 1}).json()["total"]
    return total


@pytest.fixture
def unchanged(api: httpx.Client) -> Iterator[None]:
    """Asserts that the test stored nothing, and that the server still serves afterwards."""
    before = _total(api)
    yield
    assert _total(api) == before


def _post(body: bytes, *extra_headers: bytes, length: int | None = None) -> bytes:
    head = [
        b"POST /users HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Content-Type: application/json",
        b"Content-Length: %d" % (len(body) if length is None else length),
        b"Connection: close",
        *extra_headers,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def test_a_body_sent_slowly_is_waited_for(server: RunningServer, api: httpx.Client) -> None:
    body = b'{"name": "slowpoke", "other": "one byte at a time"}'
    request = _post(body)
    head_length = len(request) - len(body)
    with connection(server.base_url) as sock:
        sock.sendall(request[:head_length])
        started = time.monotonic()
        for index in range(0, len(body), 4):
            time.sleep(SLOW_CHUNK_PAUSE)
            sock.sendall(body[index : index + 4])
        response = read_response(sock)
    assert time.monotonic() - started >= SLOW_CHUNK_PAUSE * len(body) / 4
    assert response.status == 201, response.body
    assert api.get(response.headers["location"]).json()["name"] == "slowpoke"


@pytest.mark.usefixtures("unchanged")
def test_stalled_uploads_hold_no_database_connection(
    server: RunningServer, api: httpx.Client
) -> None:
    with ExitStack() as stack:
        for _ in range(STALLED_UPLOADS):
            sock = stack.enter_context(connection(server.base_url))
            sock.sendall(_post(b'{"name": "stal', length=40))
        deadline = time.monotonic() + 5
        while gauge(api, "user_service_http_requests_in_flight") < STALLED_UPLOADS + 1:
            assert time.monotonic() < deadline, "the stalled uploads never reached the app"
            time.sleep(0.05)
        started = time.monotonic()
        assert api.get("/users", params={"limit": 1}).status_code == 200
        assert time.monotonic() - started < 1.0
        assert gauge(api, "user_service_db_pool_connections", state="checked_out") == 0
    # The clients hung up: their requests end, and none stored a user.
    deadline = time.monotonic() + 5
    while gauge(api, "user_service_http_requests_in_flight") > 1:
        assert time.monotonic() < deadline, "requests of clients that left are still in flight"
        time.sleep(0.05)


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "header",
    [
        b"X-Request-ID: abc\rdef",
        b"X-Request-ID: abc\ndef",
        b'If-Match: "1"\r\n "2"',  # obsolete line folding
        b"X-Note: a\x00b",
        b"Bad Header Name: x",
    ],
)
def test_cr_lf_and_nul_in_a_header_are_refused_before_the_app(
    server: RunningServer, header: bytes
) -> None:
    response = exchange(server.base_url, _post(b'{"name": "injected"}', header))
    assert response.status == 400
    assert response.headers["connection"] == "close"


@pytest.mark.usefixtures("unchanged")
def test_a_request_line_under_64_kib_reaches_the_app(server: RunningServer) -> None:
    request = b"GET /users?name=" + b"a" * 60_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    response = exchange(
        server.base_url, request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    )
    assert response.status == 200
    assert response.body == b'{"users":[],"count":0,"next_cursor":null}'


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("size", [70_000, 1_000_000])
def test_a_request_line_over_64_kib_is_refused_before_the_app(
    server: RunningServer, size: int
) -> None:
    for target in (b"/users?name=" + b"a" * size, b"/users/" + b"1" * size):
        request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert exchange(server.base_url, request).status == 400
