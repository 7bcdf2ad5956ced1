"""Each HTTP request measured once: its metrics and its access line."""

from __future__ import annotations

from starlette.types import Scope

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
    """Counts and times every HTTP request, and logs its access line: the app's ``observer``.

    The route template is read once the request is answered, from ``scope["route"]``, where the
    router leaves the route it matched (a request that matched none is ``<unmatched>``). A
    request whose handler raised is counted as the 500 that the catch-all answers.
    """

    __slots__ = ("_access_log", "_metrics")

    def __init__(self, *, metrics: HttpMetrics | None, access_log: AccessLog | None) -> None:
        self._metrics = metrics
        self._access_log = access_log

    def started(self) -> None:
        """See :meth:`user_http.edge.RequestObserver.started`."""
        if self._metrics is not None:
            self._metrics.started()

    def finished(self, scope: Scope, status: int, seconds: float) -> None:
        """See :meth:`user_http.edge.RequestObserver.finished`."""
        method: str = scope["method"]
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        route = scope.get("route")
        template: str = UNMATCHED_ROUTE if route is None else route.path
        if self._metrics is not None:
            self._metrics.finished(method, template, status, seconds)
        if self._access_log is not None:
            self._access_log.record(
                method,
                template,
                status,
                seconds,
                request_id=request_id_of(scope),
                trace_id=scope.get(TRACE_ID_KEY),
            )
