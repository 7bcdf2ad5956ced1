"""The ``user-service`` command: ``serve`` the API, or ``migrate`` the database.

Options override the matching ``USER_SERVICE_*`` environment variables.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.config
import math
import os
import signal
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial
from types import FrameType

import uvicorn

from user_postgres import EmbeddedPostgres, KeyCollisions, migrate
from user_service.connection_limits import ConnectionLimits, LimitedHttpToolsProtocol
from user_service.container import database_url
from user_service.settings import Settings
from user_service.telemetry.logging import logging_config
from user_service.telemetry.multiprocess_directory import shared_metrics_directory
from user_service.telemetry.tracing import tracing_requested

_APP_FACTORY = "user_service.asgi:create_application"
# uvicorn kills a worker that has not answered its supervisor for this long, and its default (5 s)
# is shorter than a worker's start on a busy or CPU-limited machine: it would be killed while it
# imports, again and again.
_WORKER_HEALTHCHECK_SECONDS = 60
_logger = logging.getLogger("user_service")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    arguments = _parser().parse_args(argv)
    arguments.run(arguments)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="user-service", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    migrate_command = commands.add_parser("migrate", help="apply, undo or show database migrations")
    steps = migrate_command.add_subparsers(required=True, metavar="ACTION")
    up = steps.add_parser("up", help="apply migrations (default: up to the newest)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=_migrate_up)
    down = steps.add_parser("down", help="undo migrations (default: the last one; 'base': all)")
    down.add_argument("revision", nargs="?", default="-1")
    down.set_defaults(run=_migrate_down)
    rekey = steps.add_parser(
        "rekey",
        help="recompute every name and email key by the service's identity rule; change "
        "nothing and list every collision if two users would share one",
    )
    rekey.set_defaults(run=_migrate_rekey)
    current = steps.add_parser("current", help="print the revision the database is at")
    current.set_defaults(run=_migrate_current)
    return parser


def _serve(arguments: argparse.Namespace) -> None:
    overrides = {
        name: value
        for name in ("host", "port", "workers", "log_level")
        if (value := getattr(arguments, name)) is not None
    }
    settings = Settings(**overrides)
    # Applied here for this process's own lines, and by uvicorn in every worker.
    log_config = logging_config(
        level=settings.log_level,
        log_format=settings.log_format,
        trace_context=tracing_requested(),
    )
    logging.config.dictConfig(log_config)
    _exit_cleanly_on_signals()
    with ExitStack() as stack:
        if settings.uses_embedded_database:
            embedded = stack.enter_context(EmbeddedPostgres(settings.data_dir / "pgdata"))
            # Workers are new processes that read their settings from the environment.
            os.environ["USER_SERVICE_DATABASE_URL"] = embedded.url
            _logger.info("Embedded PostgreSQL, data in %s", embedded.data_dir)
        if settings.metrics_enabled and settings.workers > 1:
            # Set before the workers start, so that prometheus-client sees it when imported.
            stack.enter_context(shared_metrics_directory())
        every_address = {"0.0.0.0", "::"}  # noqa: S104 (compared with, not bound to)
        shown_host = (
            "localhost" if settings.host in {"127.0.0.1", *every_address} else settings.host
        )
        _logger.info("API page: http://%s:%s/docs", shown_host, settings.port)
        uvicorn.run(
            _APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config,
            access_log=False,  # the service writes its own (user_service.telemetry.logging)
            loop="uvloop" if sys.platform != "win32" else "asyncio",
            http=partial(  # type: ignore[arg-type]  # a protocol factory, as uvicorn calls it
                LimitedHttpToolsProtocol,
                limits=ConnectionLimits(
                    max_head_bytes=settings.http_max_head_bytes,
                    max_headers=settings.http_max_headers,
                    head_timeout_seconds=settings.http_head_timeout_seconds,
                ),
            ),
            timeout_keep_alive=math.ceil(settings.http_keep_alive_seconds),
            forwarded_allow_ips=settings.forwarded_allow_ips,
            timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_seconds),
            timeout_worker_healthcheck=_WORKER_HEALTHCHECK_SECONDS,
            server_header=False,
        )


def _exit_cleanly_on_signals() -> None:
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again with the
    # handler found before it started. With this handler that ends in SystemExit(0), so the
    # embedded database and other context managers are closed and the exit status is 0.
    def leave(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)


def _database(settings: Settings, stack: ExitStack) -> str:
    if settings.uses_embedded_database:
        return stack.enter_context(EmbeddedPostgres(settings.data_dir / "pgdata")).url
    return database_url(settings)


def _migration_settings() -> Settings:
    """The settings, with logging set up so that what a migration tells reaches the operator."""
    settings = Settings()
    logging.config.dictConfig(
        logging_config(level=settings.log_level, log_format=settings.log_format)
    )
    return settings


def _migrate_up(arguments: argparse.Namespace) -> None:
    settings = _migration_settings()
    with ExitStack() as stack:
        upgrade = migrate.upgrade(
            _database(settings, stack),
            arguments.revision,
            legacy_time_zone=settings.legacy_time_zone,
        )
        try:
            asyncio.run(upgrade)
        except KeyCollisions as collisions:
            raise SystemExit(str(collisions)) from None


def _migrate_down(arguments: argparse.Namespace) -> None:
    settings = _migration_settings()
    with ExitStack() as stack:
        asyncio.run(
            migrate.downgrade(
                _database(settings, stack),
                arguments.revision,
                legacy_time_zone=settings.legacy_time_zone,
            )
        )


def _migrate_rekey(_: argparse.Namespace) -> None:
    settings = _migration_settings()
    with ExitStack() as stack:
        try:
            done = asyncio.run(migrate.rekey(_database(settings, stack)))
        except KeyCollisions as collisions:
            raise SystemExit(str(collisions)) from None
    rewritten = ", ".join(f"{count} {field} keys" for field, count in done.changed.items())
    print(f"{done.users} users read; rewritten: {rewritten}")
    if done.kept:
        print(
            f"{len(done.kept)} stored values break today's rules, served as stored (ask their "
            f"users to choose others):"
        )
        for value in done.kept:
            print(f"  {value.describe()}")


def _migrate_current(_: argparse.Namespace) -> None:
    with ExitStack() as stack:
        revision = asyncio.run(migrate.current(_database(Settings(), stack)))
    print(revision or "(no migration applied)")
