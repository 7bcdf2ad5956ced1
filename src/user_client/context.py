"""The caller's request id and trace context, passed on with every request made inside them.

A service that handles a request of its own sets them once (``with calling_context(...)``), and
every call of a :class:`~user_client.RemoteUserService` in that task sends ``X-Request-ID`` and
``traceparent``, so that the user service's log lines and spans join the caller's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

REQUEST_ID_HEADER: Final = "X-Request-ID"
TRACEPARENT_HEADER: Final = "traceparent"

CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("user_client.request_id", default=None)
"""The caller's request id (sent as ``X-Request-ID``), ``None`` when it has none."""
CURRENT_TRACEPARENT: ContextVar[str | None] = ContextVar("user_client.traceparent", default=None)
"""The caller's W3C ``traceparent``, ``None`` when it has none."""


@contextmanager
def calling_context(
    *, request_id: str | None = None, traceparent: str | None = None
) -> Iterator[None]:
    """Within the block, requests carry this request id and ``traceparent``."""
    id_token = CURRENT_REQUEST_ID.set(request_id)
    trace_token = CURRENT_TRACEPARENT.set(traceparent)
    try:
        yield
    finally:
        CURRENT_TRACEPARENT.reset(trace_token)
        CURRENT_REQUEST_ID.reset(id_token)


def context_headers() -> dict[str, str]:
    """The headers that carry the current context: only those that are set."""
    headers = {}
    if (current_id := CURRENT_REQUEST_ID.get()) is not None:
        headers[REQUEST_ID_HEADER] = current_id
    if (current_trace := CURRENT_TRACEPARENT.get()) is not None:
        headers[TRACEPARENT_HEADER] = current_trace
    return headers
