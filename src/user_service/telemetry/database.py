"""A span per database statement, when tracing is on.

It hooks SQLAlchemy's cursor events on the engine, so the PostgreSQL adapter knows nothing of
tracing: it only names each statement's operation in its execution options
(:data:`user_postgres.OPERATION_OPTION`). Statements that name none (migrations, readiness
checks) are named by their SQL verb. Listening to an engine's events slows each of its
statements down a little, which is why statement durations for metrics are measured by the
repository itself (:class:`user_postgres.StatementObserver`) instead.
"""

from __future__ import annotations

from typing import Any, Final, TypeGuard

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from user_postgres import OPERATION_OPTION

UNNAMED_OPERATION: Final = "other"

# Statements on one connection run one after the other, so one slot per connection suffices.
_SPAN = "user_service.statement_span"


def operation_of(context: ExecutionContext | None) -> str:
    """The operation a statement names, or :data:`UNNAMED_OPERATION`."""
    if context is None:
        return UNNAMED_OPERATION
    operation: str = context.execution_options.get(OPERATION_OPTION, UNNAMED_OPERATION)
    return operation


class StatementSpans:
    """A client span per statement, child of the span current when it runs (the request's)."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def listen(self, engine: AsyncEngine) -> None:
        """Start tracing the statements of ``engine``."""
        target = engine.sync_engine
        event.listen(target, "before_cursor_execute", self._started)
        event.listen(target, "after_cursor_execute", self._finished)
        event.listen(target, "handle_error", self._failed)

    def _started(
        self, conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, *_: Any
    ) -> None:
        operation = operation_of(context)
        verb = statement.split(None, 1)[0].upper() if statement else ""
        conn.info[_SPAN] = self._tracer.start_span(
            verb if operation == UNNAMED_OPERATION else operation,
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": "postgresql",
                "db.namespace": conn.engine.url.database or "",
                "db.operation.name": verb,
                "db.query.text": statement,  # placeholders only: values are never in it
            },
        )

    def _finished(self, conn: Connection, *_: Any) -> None:
        span: Span | None = conn.info.pop(_SPAN, None)
        if span is not None:
            span.end()

    def _failed(self, error: ExceptionContext) -> None:
        if not _usable(error.connection):
            return
        span: Span | None = error.connection.info.pop(_SPAN, None)
        if span is not None:
            span.record_exception(error.original_exception)
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()


def _usable(connection: Connection | None) -> TypeGuard[Connection]:
    # Reading `info` of an invalidated connection would try to reconnect.
    return connection is not None and not connection.invalidated
