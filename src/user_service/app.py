"""The ASGI application of the service, built from the container.

``uvicorn --factory user_service.app:create_application`` serves it; the CLI does exactly that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from user_http import create_app
from user_service.container import Container


def create_application(container: Container | None = None) -> Starlette:
    """The HTTP API, wired from ``container`` (a new one, read from the environment, if ``None``).

    The lifespan starts the container's resources (migrating the database when configured to)
    and stops them at shutdown, closing the connection pool after the last request.
    """
    container = Container() if container is None else container

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await container.init_resources()  # type: ignore[misc]
        try:
            yield
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    return create_app(
        container.user_service(),
        readiness=container.readiness(),
        shutdown=container.shutdown(),
        lifespan=lifespan,
    )
