"""Traces: a server span per request, continuing the caller's W3C ``traceparent``.

Tracing is on only when the standard OpenTelemetry variables ask for it
(:func:`tracer_provider_from_environment`); otherwise none of this module's middleware or hooks
is installed, and requests pay nothing for it. Spans of database statements come from
:mod:`user_service.telemetry.database`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from importlib.metadata import entry_points
from typing import Final

from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, WrappedLogger

TRACE_ID_KEY: Final = "user_service.trace_id"
"""Where :class:`TracingMiddleware` leaves the request's trace id (32 hex digits) in the scope."""

_EXPORTER_ENTRY_POINTS = "opentelemetry_traces_exporter"
_OTLP_OVER_HTTP = "http/protobuf"
_UNNAMED_SERVICE = "unknown_service"
_Headers = Sequence[tuple[bytes, bytes]]


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the ``OTEL_*`` variables ask for spans to be exported.

    Yes when ``OTEL_TRACES_EXPORTER`` names an exporter other than ``none``, or when it is unset
    and an OTLP endpoint is (``OTEL_EXPORTER_OTLP_ENDPOINT`` or its ``_TRACES_`` variant); never
    with ``OTEL_SDK_DISABLED=true``.
    """
    return bool(_exporter_names(environ))


def tracer_provider_from_environment(
    version: str, environ: Mapping[str, str] = os.environ
) -> TracerProvider | None:
    """A provider exporting spans as the ``OTEL_*`` variables say, or ``None`` if they do not.

    Exporters: ``otlp`` (OTLP over HTTP; ``OTEL_EXPORTER_OTLP_*`` set its endpoint, headers and
    timeout), ``console``, or any other installed under that name. The sampler
    (``OTEL_TRACES_SAMPLER``), batching (``OTEL_BSP_*``), propagators (``OTEL_PROPAGATORS``) and
    resource (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``) follow the SDK's variables.
    """
    names = _exporter_names(environ)
    if not names:
        return None
    resource = Resource.create({SERVICE_VERSION: version})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith(_UNNAMED_SERVICE):
        resource = resource.merge(Resource({SERVICE_NAME: "user-service"}))
    provider = TracerProvider(resource=resource)
    for name in names:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name, environ)))
    return provider


def _exporter_names(environ: Mapping[str, str]) -> list[str]:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    listed = environ.get("OTEL_TRACES_EXPORTER")
    if listed is None:
        endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        return ["otlp"] if any(environ.get(variable) for variable in endpoints) else []
    names = (name.strip().lower() for name in listed.split(","))
    return [name for name in names if name and name != "none"]


def _exporter(name: str, environ: Mapping[str, str]) -> SpanExporter:
    if name == "otlp":
        protocol = environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", _OTLP_OVER_HTTP),
        )
        if protocol != _OTLP_OVER_HTTP:
            raise ValueError(
                f"OTLP over {protocol!r} is not installed; use "
                f"OTEL_EXPORTER_OTLP_PROTOCOL={_OTLP_OVER_HTTP} (port 4318 on a collector)"
            )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    found = entry_points(group=_EXPORTER_ENTRY_POINTS, name=name)
    if not found:
        raise ValueError(f"OTEL_TRACES_EXPORTER names {name!r}, which is not installed")
    exporter: SpanExporter = next(iter(found)).load()()
    return exporter


class _AsgiHeaders(Getter[_Headers]):
    """Reads propagation headers (``traceparent``, ``tracestate``, ``baggage``) from a scope's."""

    def get(self, carrier: _Headers, key: str) -> list[str] | None:
        name = key.encode("latin-1")
        values = [value.decode("latin-1") for header, value in carrier if header == name]
        return values or None

    def keys(self, carrier: _Headers) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


_headers = _AsgiHeaders()


class TracingMiddleware:
    """Pure ASGI middleware: one server span per HTTP request, named by its route template.

    The span continues the trace of the request's ``traceparent`` header, if any, and is the
    current span while the request is served, so database spans become its children.
    """

    def __init__(self, app: ASGIApp, *, tracer: Tracer) -> None:
        self.app = app
        self._tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parent = propagate.extract(scope["headers"], getter=_headers)
        method: str = scope["method"]
        span = self._tracer.start_span(
            method, parent, SpanKind.SERVER, attributes=_request_attributes(scope)
        )
        scope[TRACE_ID_KEY] = trace.format_trace_id(span.get_span_context().trace_id)
        token = context.attach(trace.set_span_in_context(span, parent))
        status = 500  # unless a response starts: an error escaped, and the catch-all answers 500

        async def send_traced(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        except Exception as error:
            span.record_exception(error)
            raise
        finally:
            route = scope.get("route")
            if route is not None:
                span.update_name(f"{method} {route.path}")
                span.set_attribute("http.route", route.path)
            span.set_attribute("http.response.status_code", status)
            if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                span.set_status(Status(StatusCode.ERROR))
            context.detach(token)
            span.end()


def _request_attributes(scope: Scope) -> dict[str, str | int]:
    # No url.path nor url.query: they hold whatever the client sent (an email where an id
    # belongs, list filters by name and email), and a trace leaves the service. The route says
    # what was asked.
    attributes: dict[str, str | int] = {
        "http.request.method": scope["method"],
        "url.scheme": scope.get("scheme", "http"),
        "network.protocol.version": scope.get("http_version", "1.1"),
    }
    server = scope.get("server")
    if server is not None and server[1] is not None:
        attributes["server.address"], attributes["server.port"] = server
    return attributes


def add_trace_context(
    _logger: WrappedLogger, _method_name: str, event_dict: EventDict
) -> EventDict:
    """A structlog processor: the current span's ``trace_id`` and ``span_id``, when there is one."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = trace.format_trace_id(span_context.trace_id)
        event_dict["span_id"] = trace.format_span_id(span_context.span_id)
    return event_dict
