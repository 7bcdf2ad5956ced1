"""A request is a server span continuing the caller's trace, with a child span per statement."""

from __future__ import annotations

from dependency_injector import providers
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.testclient import TestClient

from user_service.asgi import create_application
from user_service.container import Container

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN_ID = "b7ad6b7169203331"


def traced(container: Container) -> InMemorySpanExporter:
    """Makes ``container`` export its spans into the returned exporter."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    container.tracer_provider.override(providers.Object(provider))
    return exporter


def server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.kind is SpanKind.SERVER and span.name == name]
    return span


def children_of(spans: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    parent_id = parent.context.span_id
    return [span for span in spans if span.parent is not None and span.parent.span_id == parent_id]


def test_a_request_continues_the_callers_trace_with_a_span_per_statement(
    container: Container,
) -> None:
    exporter = traced(container)
    with TestClient(create_application(container)) as client:
        user_url = client.post("/users", json={"name": "traced"}).headers["location"]
        exporter.clear()

        response = client.get(
            user_url, headers={"traceparent": f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"}
        )

    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    request = server_span(spans, "GET /users/{id}")
    assert f"{request.context.trace_id:032x}" == TRACE_ID
    assert request.parent is not None
    assert f"{request.parent.span_id:016x}" == CALLER_SPAN_ID
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/users/{id}"
    assert request.attributes["http.response.status_code"] == 200
    (statement,) = children_of(spans, request)
    assert statement.kind is SpanKind.CLIENT
    assert statement.name == "get_user"
    assert statement.context.trace_id == request.context.trace_id
    assert statement.attributes is not None
    assert statement.attributes["db.system.name"] == "postgresql"
    assert str(statement.attributes["db.query.text"]).startswith("SELECT")


def test_without_a_traceparent_a_request_starts_a_trace_and_failed_statements_are_errors(
    container: Container,
) -> None:
    exporter = traced(container)
    with TestClient(create_application(container)) as client:
        client.post("/users", json={"name": "taken"})
        exporter.clear()

        assert client.post("/users", json={"name": "TAKEN"}).status_code == 409

    spans = exporter.get_finished_spans()
    request = server_span(spans, "POST /users")
    assert request.parent is None
    assert request.status.status_code is StatusCode.UNSET  # a 409 is the client's error
    (insert,) = children_of(spans, request)
    assert insert.name == "insert_user"
    assert insert.status.status_code is StatusCode.ERROR
    assert any(event.name == "exception" for event in insert.events)


def test_nothing_of_tracing_is_installed_unless_asked(container: Container) -> None:
    app = create_application(container)

    names = [layer.cls.__name__ for layer in app.user_middleware]  # type: ignore[attr-defined]
    assert "TracingMiddleware" not in names
    assert container.tracer_provider() is None
    # No listener on the engine: SQLAlchemy then skips its event machinery for every statement.
    dispatch = container.engine().sync_engine.dispatch
    assert len(dispatch.before_cursor_execute) == len(dispatch.after_cursor_execute) == 0
