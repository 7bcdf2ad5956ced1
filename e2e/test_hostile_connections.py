"""Hostile clients over real TCP against ``user-service serve``: what only a raw socket sends.

Decisions these tests pin down (RELIABILITY.md repeats them):

- A body sent slowly is waited for: uvicorn has no timeout for reading a request body (only
  ``timeout_keep_alive`` between requests), so a slow but live client succeeds. A stalled upload
  costs a socket and a coroutine, never a database connection: the body is read whole before
  the service is called. Cutting off slow or stalled clients (slowloris) is the ingress's job.
- CR or LF inside a header never reach the application: httptools refuses them and uvicorn
  answers its own ``400`` (``text/plain``, connection closed), the only refusals without a
  problem body. Nothing is stored either way.
- What a client can make the server hold before authentication is bounded
  (:mod:`user_service.connection_limits`): a request head over ``USER_SERVICE_HTTP_MAX_HEAD_BYTES``
  (64 KiB) or with more than ``USER_SERVICE_HTTP_MAX_HEADERS`` (100) fields is ``431``, even
  while it is still arriving, and a request target alone that long is ``414``; a head not whole
  ``USER_SERVICE_HTTP_HEAD_TIMEOUT_SECONDS`` after the connection opened is ``408``; an idle
  keep-alive connection is closed after ``USER_SERVICE_HTTP_KEEP_ALIVE_SECONDS``. Here both
  timeouts are 2 s, to keep the tests short.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2 as httpx
import pytest

from e2e.raw_http import RawResponse, connection, exchange, gauge, read_response
from e2e.server import RunningServer

SLOW_CHUNK_PAUSE = 0.1  # seconds between the bytes of a slow body
STALLED_UPLOADS = 20
HEAD_TIMEOUT = 2.0
KEEP_ALIVE = 2.0
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
HUGE_HEADER = 4 * 1024 * 1024  # what each of the attack's connections tried to send
HOSTILE_CONNECTIONS = 20
RSS_GROWTH_LIMIT = 16 * 1024 * 1024  # 20 × 4 MiB held would be 80 MiB


@pytest.fixture(scope="module")
def server_settings() -> dict[str, str]:
    return {
        "USER_SERVICE_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "USER_SERVICE_HTTP_KEEP_ALIVE_SECONDS": str(KEEP_ALIVE),
    }


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
def test_a_request_target_over_64_kib_is_414_before_the_app(
    server: RunningServer, size: int
) -> None:
    for target in (b"/users?name=" + b"a" * size, b"/users/" + b"1" * size):
        request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        with connection(server.base_url) as sock:
            _send_until_refused(sock, request)
            _problem(read_response(sock), 414)


def _problem(response: RawResponse, status: int) -> dict[str, object]:
    assert response.status == status, response
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    body: dict[str, object] = json.loads(response.body)
    assert (body["type"], body["status"]) == ("about:blank", status)
    return body


def _send_until_refused(sock: socket.socket, data: bytes, chunk: int = 64 * 1024) -> int:
    """Send ``data`` until the server stops reading it; how many bytes it took."""
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent : sent + chunk])
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.usefixtures("unchanged")
def test_a_head_over_the_limit_is_431_while_it_still_arrives(server: RunningServer) -> None:
    head = b"POST /users HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * HUGE_HEADER
    with connection(server.base_url) as sock:
        sent = _send_until_refused(sock, head)
        body = _problem(read_response(sock), 431)
    assert sent < HUGE_HEADER  # refused long before the end, which never came
    assert str(MAX_HEAD_BYTES) in str(body["detail"])


@pytest.mark.usefixtures("unchanged")
def test_a_whole_head_over_the_limit_is_431(server: RunningServer) -> None:
    fields = b"".join(b"X-Field-%d: %s\r\n" % (index, b"v" * 1000) for index in range(70))
    request = b"GET /users HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    _problem(exchange(server.base_url, request), 431)


@pytest.mark.usefixtures("unchanged")
def test_more_header_fields_than_allowed_is_431(server: RunningServer) -> None:
    fields = b"".join(b"X-Field-%d: v\r\n" % index for index in range(MAX_HEADERS))
    request = b"GET /users HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n"
    body = _problem(exchange(server.base_url, request), 431)
    assert str(MAX_HEADERS) in str(body["detail"])
    within = b"".join(b"X-Field-%d: v\r\n" % index for index in range(MAX_HEADERS - 2))
    request = b"GET /users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + within + b"\r\n"
    assert exchange(server.base_url, request).status == 200


@pytest.mark.usefixtures("unchanged")
def test_unfinished_huge_heads_do_not_grow_the_servers_memory(server: RunningServer) -> None:
    before = _rss(server.process.pid)
    with ExitStack() as stack:
        for _ in range(HOSTILE_CONNECTIONS):
            sock = stack.enter_context(connection(server.base_url))
            _send_until_refused(sock, b"GET /users HTTP/1.1\r\nX-Big: " + b"a" * HUGE_HEADER)
            assert read_response(sock).status == 431
        grown = _rss(server.process.pid) - before
    print(f"RSS {before / 2**20:.1f} MiB before, grew by {grown / 2**20:.1f} MiB")
    assert grown < RSS_GROWTH_LIMIT, f"RSS grew by {grown / 2**20:.1f} MiB"


@pytest.mark.usefixtures("unchanged")
def test_a_connection_that_sends_nothing_is_closed_with_408(server: RunningServer) -> None:
    with connection(server.base_url, timeout=HEAD_TIMEOUT * 5) as sock:
        started = time.monotonic()
        body = _problem(read_response(sock), 408)
        waited = time.monotonic() - started
        assert sock.recv(1) == b""  # closed
    assert HEAD_TIMEOUT * 0.9 <= waited < HEAD_TIMEOUT * 3
    assert "2 seconds" in str(body["detail"])


@pytest.mark.usefixtures("unchanged")
def test_a_head_sent_too_slowly_is_408(server: RunningServer) -> None:
    head = b"GET /users HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    with connection(server.base_url, timeout=HEAD_TIMEOUT * 5) as sock:
        started = time.monotonic()
        for index in range(len(head)):
            if time.monotonic() - started > HEAD_TIMEOUT * 2:
                break
            try:
                sock.send(head[index : index + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.05)
        _problem(read_response(sock), 408)
    assert time.monotonic() - started < HEAD_TIMEOUT * 3


def test_an_idle_keep_alive_connection_is_closed(server: RunningServer) -> None:
    with connection(server.base_url, timeout=KEEP_ALIVE * 5) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).status == 200
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server, with nothing sent
        assert KEEP_ALIVE * 0.9 <= time.monotonic() - started < KEEP_ALIVE * 3


def test_a_second_request_on_a_kept_alive_connection_gets_its_own_head_time(
    server: RunningServer,
) -> None:
    with connection(server.base_url, timeout=HEAD_TIMEOUT * 5) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).status == 200
        time.sleep(HEAD_TIMEOUT * 0.6)  # past most of the first head's time, within keep-alive
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert read_response(sock).status == 200


def test_a_second_head_sent_slowly_has_its_whole_time(server: RunningServer) -> None:
    # The second head begins halfway through the first one's time and ends after it: the timer
    # set for the first head must give the second its own.
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with connection(server.base_url, timeout=HEAD_TIMEOUT * 5) as sock:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).status == 200
        time.sleep(HEAD_TIMEOUT * 0.5)
        for piece in (head[:10], head[10:30]):
            sock.sendall(piece)
            time.sleep(HEAD_TIMEOUT * 0.35)
        sock.sendall(head[30:])
        assert read_response(sock).status == 200
