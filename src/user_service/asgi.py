"""The ASGI application of the service, built from the container.

``uvicorn --factory user_service.asgi:create_application`` serves it; the CLI does exactly that.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from user_http import create_app
from user_service.container import Container
from user_service.lifecycle import shutdown_on_signals
from user_service.purge import purging_expired_keys


def create_application(container: Container | None = None) -> Starlette:
    """The HTTP API, wired from ``container`` (a new one, read from the environment, if ``None``).

    The lifespan starts the container's resources (migrating the database when configured to)
    and stops them at shutdown, closing the connection pool after the last request. From the
    moment the process gets SIGTERM, ``/readyz`` answers 503. Telemetry (metrics at
    ``/metrics``, the access log, traces) is on as the settings and ``OTEL_*`` variables say.
    Expired idempotency keys are purged in the background (:mod:`user_service.purge`). With
    ``auth_jwks`` set, the ``/users`` operations need a bearer token (:mod:`user_service.jwks`);
    with ``rate_limit_enabled``, each client has a budget of them (:mod:`user_http.rate_limit`);
    with ``cors_allow_origins``, browser pages of those origins may call them.
    """
    container = Container() if container is None else container
    service = container.user_service()
    pool = container.pool()
    telemetry = container.telemetry()
    shutdown = container.shutdown()
    purge_interval = container.settings().idempotency_purge_interval_seconds

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await container.init_resources()  # type: ignore[misc]
        # What start-up built lives as long as the process: move it out of the collector's
        # generations, so that collections walk only what requests allocate (shorter pauses).
        gc.collect()
        gc.freeze()
        try:
            with shutdown_on_signals(shutdown):
                async with telemetry.running(pool), purging_expired_keys(service, purge_interval):
                    yield
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    return create_app(
        service,
        readiness=container.readiness(),
        shutdown=shutdown,
        lifespan=lifespan,
        # Telemetry outermost, so that it also sees the preflights CORS answers itself.
        middleware=[*telemetry.middleware(), *container.cors()],
        observer=telemetry.request_observer(),
        metrics=telemetry.metrics,
        verifier=container.token_verifier(),
        rate_limits=container.rate_limits(),
    )
