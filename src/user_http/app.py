"""The application factory: a Starlette app serving one :class:`UserService`, no global state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Lifespan

from user_core import UserService
from user_http.auth import TokenVerifier, protect
from user_http.docs import DocsEndpoints
from user_http.edge import Edge, RequestObserver
from user_http.errors import exception_handlers, on_unexpected
from user_http.metrics_endpoint import MetricsEndpoint, MetricsExposition
from user_http.openapi import openapi_document
from user_http.operations import ApiRoute
from user_http.probes import ProbeEndpoints, ReadinessProbe, ShutdownSignal
from user_http.rate_limit import RateLimits, limit
from user_http.routes import route_table, viewer_routes
from user_http.users import UserEndpoints

_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
_BUSIEST = ("getUser", "createUser")
"""The operations the router tries first; the others follow in the route table's order."""


def create_app(
    service: UserService,
    *,
    readiness: ReadinessProbe | None = None,
    shutdown: ShutdownSignal | None = None,
    lifespan: Lifespan[Starlette] | None = None,
    middleware: Sequence[Middleware] = (),
    observer: RequestObserver | None = None,
    metrics: MetricsExposition | None = None,
    verifier: TokenVerifier | None = None,
    rate_limits: RateLimits | None = None,
    title: str = "user-service",
    version: str | None = None,
) -> Starlette:
    """Build the HTTP API of ``service``.

    ``readiness`` backs ``/readyz`` (always ready without one); ``shutdown`` lets the caller make
    ``/readyz`` fail before the app stops (it is set anyway when the lifespan ends). ``lifespan``
    runs around the app's life, e.g. to open and close the database. ``observer`` is told of
    every request and its answer (metrics and the access log go here; see
    :class:`~user_http.edge.Edge`). ``middleware`` wraps every request inside it, so it sees
    ``X-Request-ID``; it runs before routing, and from the response's start on
    ``scope["route"]`` holds the matched route (absent when none matched). ``metrics``, when
    given, is served at ``/metrics``.
    ``verifier``, when given, turns bearer-token authentication on for the ``/users``
    operations (see :mod:`user_http.auth`); probes, metrics and the documentation (the API page
    and its files too) stay open.
    ``rate_limits``, when given, gives each client a budget of those operations (see
    :mod:`user_http.rate_limit`). ``title`` and ``version`` describe the API in ``/openapi.json``.
    """
    shutdown = ShutdownSignal() if shutdown is None else shutdown
    docs = DocsEndpoints()
    api_routes = route_table(
        UserEndpoints(service),
        ProbeEndpoints(readiness, shutdown),
        docs,
        None if metrics is None else MetricsEndpoint(metrics),
    )
    if rate_limits is not None:
        limit(api_routes, rate_limits)  # inside the guard: it counts authenticated callers
    if verifier is not None:
        protect(api_routes, verifier)
    docs.publish(
        openapi_document(
            api_routes,
            title=title,
            version=version or _package_version(),
            secured=verifier is not None,
            rate_limited=rate_limits is not None,
        )
    )
    # The router tries each route in turn (a regex match each): the busiest first.
    routes = [*sorted(api_routes, key=_matching_rank), *viewer_routes(docs)]
    app = _Api(
        observer,
        routes=routes,
        middleware=middleware,
        exception_handlers=exception_handlers(allowed_methods(routes)),
        lifespan=_ending_with(shutdown, lifespan),
    )
    # An API answers the path it was asked, not a redirect to another one: /users/ is a 404.
    app.router.redirect_slashes = False
    return app


class _Api(Starlette):
    """Starlette with :class:`~user_http.edge.Edge` for its outermost layers.

    Starlette wraps the app in its catch-all (``ServerErrorMiddleware``); the edge takes its
    place and that of the request-id and telemetry layers, each a call and a ``send`` wrapper
    per request.
    """

    def __init__(self, observer: RequestObserver | None, **options: Any) -> None:
        self._observer = observer
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        """Edge, then the given middleware, then the exception handlers and the router.

        The handlers' answers pass through the given middleware (CORS adds its headers to a
        problem too); with none given, the edge runs the handlers itself, one layer fewer.
        """
        if not self.user_middleware:
            return Edge(
                self.router,
                on_error=on_unexpected,
                observer=self._observer,
                handlers=self.exception_handlers,
            )
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=self.exception_handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return Edge(app, on_error=on_unexpected, observer=self._observer)


def _matching_rank(route: ApiRoute) -> int:
    name = route.operation.operation_id
    return _BUSIEST.index(name) if name in _BUSIEST else len(_BUSIEST)


def allowed_methods(routes: Iterable[Route]) -> dict[str, str]:
    """Each path's ``Allow`` header value: every method its routes serve, HEAD with GET."""
    methods: dict[str, set[str]] = {}
    for route in routes:
        methods.setdefault(route.path, set()).update(route.methods or ())
    return {
        path: ", ".join(sorted(names, key=lambda name: (_rank(name), name)))
        for path, names in methods.items()
    }


def _rank(method: str) -> int:
    return _METHOD_ORDER.index(method) if method in _METHOD_ORDER else len(_METHOD_ORDER)


def _ending_with(
    shutdown: ShutdownSignal, lifespan: Lifespan[Starlette] | None
) -> Lifespan[Starlette]:
    """``lifespan``, flagging ``shutdown`` as soon as the app starts to stop."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[Mapping[str, Any] | None]:
        if lifespan is None:
            try:
                yield None
            finally:
                shutdown.begin_shutdown()
            return
        async with lifespan(app) as state:
            try:
                yield state
            finally:
                shutdown.begin_shutdown()

    # Lifespan is a union of a stateless and a stateful signature; run is either, as it passes on.
    return cast(Lifespan[Starlette], run)


def _package_version() -> str:
    try:
        return metadata.version("user-service")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
