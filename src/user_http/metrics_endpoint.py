"""``GET /metrics``: the service's metrics, rendered by whoever collects them.

The adapter knows no metrics library: the composition root passes a :class:`MetricsExposition`
(Prometheus's text format, for instance) to :func:`~user_http.create_app`.
"""

from __future__ import annotations

from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response


class MetricsExposition(Protocol):
    """The current values of the service's metrics in a format that a scraper reads."""

    @property
    def media_type(self) -> str:
        """The ``Content-Type`` of :meth:`render`'s output."""
        ...

    def render(self) -> bytes:
        """Every metric now; it may block for a moment (it runs in a worker thread)."""
        ...


class MetricsEndpoint:
    """The handler of ``/metrics``."""

    def __init__(self, exposition: MetricsExposition) -> None:
        self._exposition = exposition

    async def metrics(self, _request: Request) -> Response:
        """The metrics as the exposition renders them, off the event loop."""
        body = await run_in_threadpool(self._exposition.render)
        return Response(body, media_type=self._exposition.media_type)
