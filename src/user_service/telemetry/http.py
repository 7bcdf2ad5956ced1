"""Each HTTP request measured once: its metrics and its access line."""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from user_http import request_id_of
from user_service.telemetry.logging import AccessLog
from user_service.telemetry.metrics import (
    KNOWN_METHODS,
    OTHER_METHOD,
    UNMATCHED_ROUTE,
    HttpMetrics,
)
from user_service.telemetry.tracing import TRACE_ID_KEY


class RequestTelemetry:
    """Pure ASGI middleware counting and timing every HTTP request, and logging its access line.

    It runs before routing: the route template is read once the request is answered, from
    ``scope["route"]``, where the router leaves the route it matched (a request that matched none
    is ``<unmatched>``). A request whose handler raised is counted as the 500 that the catch-all
    answers.
    """

    def __init__(
        self, app: ASGIApp, *, metrics: HttpMetrics | None, access_log: AccessLog | None
    ) -> None:
        self.app = app
        self._metrics = metrics
        self._access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, then record it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts: an error escaped, and the catch-all answers 500

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self._metrics
        if metrics is not None:
            metrics.started()
        started = perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = perf_counter() - started
            method: str = scope["method"]
            if method not in KNOWN_METHODS:
                method = OTHER_METHOD
            route = scope.get("route")
            template: str = UNMATCHED_ROUTE if route is None else route.path
            if metrics is not None:
                metrics.finished(method, template, status, seconds)
            if self._access_log is not None:
                self._access_log.record(
                    method,
                    template,
                    status,
                    seconds,
                    request_id=request_id_of(scope),
                    trace_id=scope.get(TRACE_ID_KEY),
                )
