"""HTTP/1.1 by hand over a socket, for what no client library will send, and metric readings."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx2 as httpx

TIMEOUT = 10.0


@dataclass(frozen=True)
class RawResponse:
    """The status line's code, the lower-cased header names and values, and the body."""

    status: int
    headers: dict[str, str]
    body: bytes


@contextmanager
def connection(base_url: str, timeout: float = TIMEOUT) -> Iterator[socket.socket]:
    """A TCP connection to the server at ``base_url``, closed at the end of the block."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as sock:
        yield sock


def read_response(sock: socket.socket) -> RawResponse:
    """Read one response (``Connection: close`` or with ``Content-Length``) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split(" ")[1]), headers, body)


def exchange(base_url: str, request: bytes) -> RawResponse:
    """Send ``request`` as it is on a new connection and read the answer."""
    with connection(base_url) as sock:
        sock.sendall(request)
        return read_response(sock)


def gauge(api: httpx.Client, name: str, **labels: str) -> float:
    """The current value of one sample of ``/metrics``."""
    text = api.get("/metrics").text
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    sample = re.escape(f"{name}{{{selector}}}" if labels else name)
    found = re.search(rf"^{sample} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"no sample {name} {labels} in /metrics"
    return float(found[1])
