"""The dependency container: the one place that names every concrete class.

settings → connection pool → repository → service → application, with telemetry watching the
pool and the requests; a SQLAlchemy engine beside the pool runs the migrations.
Tests override providers (for example ``container.settings.override(Settings(database_url=...))``,
or ``container.tracer_provider`` with one that keeps spans in memory) before the application is
built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from user_core import SystemClock, UserService
from user_http import RateLimits, ShutdownSignal
from user_http.request_id import REQUEST_ID_HEADER
from user_postgres import (
    ConnectionPool,
    EngineOptions,
    PostgresUserRepository,
    create_engine,
    migrate,
)
from user_service.jwks import verifier_from_settings
from user_service.readiness import DatabaseReadiness
from user_service.settings import Settings
from user_service.telemetry import Telemetry, service_version
from user_service.telemetry.tracing import tracer_provider_from_environment

CORS_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_EXPOSED_HEADERS: Final = (
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    REQUEST_ID_HEADER,
)
"""Response headers a browser page may read besides the CORS-safelisted ones."""


def engine_options(settings: Settings) -> EngineOptions:
    """The pool settings of :class:`Settings` in the adapter's terms."""
    return EngineOptions(
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_timeout_seconds,
        connect_timeout=settings.connect_timeout_seconds,
        statement_timeout_ms=settings.statement_timeout_ms or None,
        command_timeout=settings.command_timeout,
        application_name=settings.application_name,
        pgbouncer_transaction_mode=settings.pgbouncer_transaction_mode,
    )


def rate_limits(settings: Settings) -> RateLimits | None:
    """The clients' budgets, when the settings turn rate limiting on."""
    if not settings.rate_limit_enabled:
        return None
    return RateLimits(
        reads=settings.rate_limit_reads,
        writes=settings.rate_limit_writes,
        window_seconds=settings.rate_limit_window_seconds,
    )


def cors_middleware(settings: Settings) -> list[Middleware]:
    """Starlette's CORS middleware for the allowed origins; none when no origin is allowed."""
    if not settings.cors_allow_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=CORS_METHODS,
            allow_headers=[*settings.cors_allow_headers, REQUEST_ID_HEADER],
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=settings.cors_max_age_seconds,
        )
    ]


def database_url(settings: Settings) -> str:
    """The configured URL; the CLI sets it to the embedded server's when none is configured."""
    if settings.database_url is None:
        raise RuntimeError(
            "no database configured: set USER_SERVICE_DATABASE_URL (or POSTGRES_URL), "
            "or start the service with `user-service serve`, which runs an embedded PostgreSQL"
        )
    return settings.database_url.get_secret_value()


def observed_pool(
    url: str, options: EngineOptions, engine: AsyncEngine, telemetry: Telemetry
) -> ConnectionPool:
    """The repository's connection pool, its use (and statements through ``engine``, when
    traced) watched by ``telemetry``."""
    pool = ConnectionPool(url, options)
    telemetry.watch(pool, engine)
    return pool


async def database(
    pool: ConnectionPool,
    engine: AsyncEngine,
    migrate_on_start: bool,
    legacy_time_zone: str = "UTC",
) -> AsyncIterator[ConnectionPool]:
    """The database's lifetime in the service: migrate at start, close every connection at the
    end."""
    if migrate_on_start:
        await migrate.upgrade(engine, legacy_time_zone=legacy_time_zone)
    await engine.dispose()  # until the next migration: requests and checks use the pool
    try:
        yield pool
    finally:
        await pool.close()
        await engine.dispose()


class Container(containers.DeclarativeContainer):
    """Builds the service's object graph; its resources start and stop in the app's lifespan."""

    settings = providers.Singleton(Settings)

    # None unless the OTEL_* variables ask for traces.
    tracer_provider = providers.Singleton(
        tracer_provider_from_environment, version=providers.Callable(service_version)
    )
    telemetry = providers.Singleton(
        Telemetry.from_settings, settings=settings, tracer_provider=tracer_provider
    )

    engine = providers.Singleton(
        create_engine,
        url=providers.Callable(database_url, settings),
        options=providers.Callable(engine_options, settings),
    )
    pool = providers.Singleton(
        observed_pool,
        url=providers.Callable(database_url, settings),
        options=providers.Callable(engine_options, settings),
        engine=engine,
        telemetry=telemetry,
    )
    database = providers.Resource(
        database,
        pool=pool,
        engine=engine,
        migrate_on_start=settings.provided.migrate_on_start,
        legacy_time_zone=settings.provided.legacy_time_zone,
    )

    clock = providers.Singleton(SystemClock)
    repository = providers.Singleton(
        PostgresUserRepository,
        pool=pool,
        observer=telemetry.provided.statement_observer.call(pool),
    )
    user_service = providers.Singleton(UserService, repository=repository, clock=clock)

    readiness = providers.Singleton(DatabaseReadiness, pool=pool)
    # None (authentication off) unless settings.auth_jwks names a JWKS.
    token_verifier = providers.Singleton(verifier_from_settings, settings)
    # None (rate limiting off) unless settings.rate_limit_enabled.
    rate_limits = providers.Singleton(rate_limits, settings)
    cors = providers.Singleton(cors_middleware, settings)
    shutdown = providers.Singleton(ShutdownSignal)
