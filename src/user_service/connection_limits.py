"""Limits on what a client may make the HTTP server hold before a request reaches the app.

uvicorn's httptools protocol buffers a request head as it arrives, with no limit on its size nor
on the time it takes, and a connection that sends nothing is kept open for ever: memory and
sockets can be taken before authentication. :class:`LimitedHttpToolsProtocol` adds, on each
connection:

- **the head's size**: more than :attr:`ConnectionLimits.max_head_bytes` of request line and
  header fields, counted as they arrive (so a head never complete cannot grow past the limit by
  more than one read) and exactly once complete, is ``431``; a request target alone that long is
  ``414``;
- **the number of header fields**: more than :attr:`ConnectionLimits.max_headers` is ``431``,
  checked after each read as the size is (and exactly once the head is complete).
- **the time to send a head**: a connection that has not sent a whole request head
  :attr:`ConnectionLimits.head_timeout_seconds` after it opened, or after the first byte of its
  next request, gets ``408`` and is closed; an idle keep-alive connection is closed after
  uvicorn's own ``timeout_keep_alive``.

Refusals are RFC 9457 problems of type ``about:blank`` (the status says it all), sent by the
server itself with ``Connection: close``: the app never sees the request. A body is not bounded
here: the app reads at most its own limit of it (``413``).
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from http import HTTPStatus
from itertools import chain
from typing import Any

import msgspec
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from user_http.schemas import HeadProblem


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may make the server hold; every field has a production default."""

    max_head_bytes: int = 64 * 1024
    """The request line and header fields of one request, in bytes."""
    max_headers: int = 100
    """Header fields of one request."""
    head_timeout_seconds: float = 10.0
    """For a whole request head to arrive, from the connection's start or its first byte."""


class _Refused(Exception):
    """Raised in a parser callback to stop the parse; the refusal is already recorded."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`ConnectionLimits` (see the module)."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ConnectionLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._limits = limits
        self._refusals = _refusals(limits)
        self._reading_head = True
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_deadline = 0.0
        """When the head under way must be complete, in the loop's time."""
        self._refusal: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and not self.transport.is_closing():
            # A head still arriving is checked once a read, not once a field: a field's
            # callback is on every request's path, and a read can only add so much.
            refusal = self._refusal_of_head(self._head_bytes)
            if refusal is not None:
                self._send_and_close(refusal)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error so; a callback of ours that refused is one of them.
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._send_and_close(self._refusal)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self._reading_head:  # the next request on a kept-alive connection
            self._reading_head = True
            self._head_bytes = 0
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._reading_head = False  # the timer lapses when it finds no head under way
        # Each field as "name: value" and a line break.
        size = sum(map(len, chain.from_iterable(self.headers))) + 4 * len(self.headers)
        refusal = self._refusal_of_head(len(self.url) + size)
        if refusal is not None:
            self._refusal = refusal
            raise _Refused
        super().on_headers_complete()

    def _refusal_of_head(self, size: int) -> bytes | None:
        """The refusal of a head of ``size`` bytes so far, if it is one."""
        limits = self._limits
        if len(self.url) > limits.max_head_bytes:
            return self._refusals.target_too_long
        if size > limits.max_head_bytes:
            return self._refusals.head_too_large
        if len(self.headers) > limits.max_headers:
            return self._refusals.too_many_headers
        return None

    def _start_head_timer(self) -> None:
        """Give the head that begins now its time.

        One timer a connection, moved on only when it fires before the current head's deadline:
        a timer armed and cancelled for every request cost a kept-alive connection more than
        the rest of these limits together.
        """
        self._head_deadline = self.loop.time() + self._limits.head_timeout_seconds
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(self._head_deadline, self._on_head_timeout)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _on_head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self.loop.time() < self._head_deadline:  # armed for an earlier head
            self._head_timer = self.loop.call_at(self._head_deadline, self._on_head_timeout)
            return
        cycle: RequestResponseCycle | None = self.cycle  # None until a first request
        if cycle is not None and not cycle.response_complete:
            self._start_head_timer()  # a pipelined head waits for the response before it
            return
        self._send_and_close(self._refusals.head_timeout)

    def _send_and_close(self, response: bytes) -> None:
        self._stop_head_timer()
        self.transport.write(response)
        self.transport.close()


def _problem_response(status: HTTPStatus, detail: str) -> bytes:
    body = msgspec.json.encode(HeadProblem("about:blank", status.phrase, status.value, detail))
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


@dataclass(frozen=True, slots=True)
class _Refusals:
    """The responses of one set of limits, encoded once."""

    head_too_large: bytes
    target_too_long: bytes
    too_many_headers: bytes
    head_timeout: bytes


@functools.cache
def _refusals(limits: ConnectionLimits) -> _Refusals:
    too_large = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    return _Refusals(
        head_too_large=_problem_response(
            too_large,
            f"The request line and header fields must be at most {limits.max_head_bytes} bytes.",
        ),
        target_too_long=_problem_response(
            HTTPStatus.REQUEST_URI_TOO_LONG,
            f"The request target must be at most {limits.max_head_bytes} bytes.",
        ),
        too_many_headers=_problem_response(
            too_large, f"A request may have at most {limits.max_headers} header fields."
        ),
        head_timeout=_problem_response(
            HTTPStatus.REQUEST_TIMEOUT,
            f"The request head must arrive within {limits.head_timeout_seconds:g} seconds.",
        ),
    )
