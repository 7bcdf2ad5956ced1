"""A span per database statement, when tracing is on.

:class:`StatementSpans` is a :class:`user_postgres.StatementObserver`: the repository tells it of
each statement it runs, named by the operation the statement gives in its execution options
(:data:`user_postgres.OPERATION_OPTION`), so the PostgreSQL adapter knows nothing of tracing.
The few statements that run through SQLAlchemy's own execution instead (the readiness check and
migrations) are traced by listening to the engine's cursor events (:meth:`StatementSpans.listen`),
named by their SQL verb. Those events cost every statement through the engine a little, which
is why the listener is installed only when tracing is on, and why the repository's statements do
not go through it.
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
    """A client span per statement, child of the span current when it runs (the request's).

    ``database`` is the name of the database the statements run in (``db.namespace``).
    """

    __slots__ = ("_attributes", "_tracer")

    def __init__(self, tracer: Tracer, database: str) -> None:
        self._tracer = tracer
        self._attributes = {"db.system.name": "postgresql", "db.namespace": database}

    def started(self, operation: str, sql: str) -> Span:
        """Start the span of a statement (see :class:`user_postgres.StatementObserver`)."""
        verb = sql.split(None, 1)[0].upper() if sql else ""
        return self._tracer.start_span(
            verb if operation == UNNAMED_OPERATION else operation,
            kind=SpanKind.CLIENT,
            attributes={
                **self._attributes,
                "db.operation.name": verb,
                "db.query.text": sql,  # placeholders only: values are never in it
            },
        )

    def finished(self, span: Span, error: BaseException | None) -> None:
        """End the span of a statement, as an error if it failed."""
        if error is not None:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()

    def listen(self, engine: AsyncEngine) -> None:
        """Also trace the statements that run through ``engine``'s own execution."""
        target = engine.sync_engine
        event.listen(target, "before_cursor_execute", self._cursor_started)
        event.listen(target, "after_cursor_execute", self._cursor_finished)
        event.listen(target, "handle_error", self._cursor_failed)

    def _cursor_started(
        self,
        conn: Connection,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        *_: Any,
    ) -> None:
        conn.info[_SPAN] = self.started(operation_of(context), statement)

    def _cursor_finished(self, conn: Connection, *_: Any) -> None:
        span: Span | None = conn.info.pop(_SPAN, None)
        if span is not None:
            self.finished(span, None)

    def _cursor_failed(self, error: ExceptionContext) -> None:
        if not _usable(error.connection):
            return
        span: Span | None = error.connection.info.pop(_SPAN, None)
        if span is not None:
            self.finished(span, error.original_exception)


def _usable(connection: Connection | None) -> TypeGuard[Connection]:
    # Reading `info` of an invalidated connection would try to reconnect.
    return connection is not None and not connection.invalidated
