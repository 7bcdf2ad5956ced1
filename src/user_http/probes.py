"""Liveness and readiness: ``/livez`` while the process runs, ``/readyz`` while it can serve."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

from user_http.errors import ServiceNotReady
from user_http.responses import JSON, encode
from user_http.schemas import HealthStatus


class ReadinessProbe(Protocol):
    """Tells whether the service's dependencies can serve requests now.

    The composition root implements it (a database round trip, migrations at head). It should
    answer quickly and may raise ``StorageUnavailable``, which also makes ``/readyz`` a ``503``.
    """

    async def __call__(self) -> bool:
        """``True`` when requests can be served."""
        ...


class ShutdownSignal:
    """Set once shutdown has begun, after which ``/readyz`` answers ``503``.

    The application sets it when its lifespan ends; the composition root may set it earlier,
    e.g. on ``SIGTERM``, so that load balancers stop sending traffic before connections close.
    """

    def __init__(self) -> None:
        self._begun = False

    @property
    def begun(self) -> bool:
        """Whether :meth:`begin_shutdown` was called."""
        return self._begun

    def begin_shutdown(self) -> None:
        """Mark the service as shutting down; it cannot be undone."""
        self._begun = True


_LIVE = encode(HealthStatus("live"))
_READY = encode(HealthStatus("ready"))


class ProbeEndpoints:
    """The handlers of ``/livez`` and ``/readyz``."""

    def __init__(self, readiness: ReadinessProbe | None, shutdown: ShutdownSignal) -> None:
        self._readiness = readiness
        self._shutdown = shutdown

    async def livez(self, _request: Request) -> Response:
        """``200`` while the process can answer at all."""
        return Response(_LIVE, media_type=JSON)

    async def readyz(self, _request: Request) -> Response:
        """``200`` when the readiness probe says so and shutdown has not begun, else ``503``."""
        if self._shutdown.begun:
            raise ServiceNotReady("The service is shutting down.")
        if self._readiness is not None and not await self._readiness():
            raise ServiceNotReady("A dependency of the service is not ready.")
        return Response(_READY, media_type=JSON)
