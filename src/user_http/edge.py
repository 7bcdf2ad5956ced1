"""The outermost layer of every HTTP request: its id, its record, and the answer of last resort.

One pure ASGI middleware and one wrapper of ``send`` per request, where there were three of each
(Starlette's catch-all, the request id, the telemetry): each layer cost a coroutine call and a
closure on every request, and together they were a quarter of the CPU above the route
(``BENCHMARKS.md``, issue 20).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from user_http.request_id import HEADER_KEY, SCOPE_KEY, incoming_id, new_request_id

NOT_STARTED = 0

ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class RequestObserver(Protocol):
    """Told of every HTTP request (metrics, the access log); both calls must be quick."""

    def started(self) -> None:
        """A request has arrived."""
        ...

    def finished(self, scope: Scope, status: int, seconds: float) -> None:
        """It was answered with ``status`` after ``seconds``.

        ``scope["route"]`` holds the route it matched (absent when none did); the request id is
        in the scope (:func:`~user_http.request_id.request_id_of`).
        """
        ...


class Edge:
    """Names each request (``X-Request-ID``), tells ``observer``, and answers what escaped.

    The request id is echoed when the client sent a sane one, else generated, kept in the scope
    and added to the response's headers. An exception whose class (or a base of it) is in
    ``handlers`` is answered with that handler's response, as Starlette's
    ``ExceptionMiddleware`` would; when the app has no middleware of its own, the edge takes
    that layer's place too. Any other exception, or one its handler raised again, goes to
    ``on_error``, whose response is sent if none has started (a ``500``); it is then raised
    again for the server, as Starlette's own catch-all does. Its status for ``observer`` is 500.
    """

    __slots__ = ("_app", "_handlers", "_observer", "_on_error")

    def __init__(
        self,
        app: ASGIApp,
        *,
        on_error: ErrorHandler,
        observer: RequestObserver | None,
        handlers: Mapping[type[Exception], ErrorHandler] | None = None,
    ) -> None:
        self._app = app
        self._on_error = on_error
        self._observer = observer
        self._handlers = handlers or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request (any other scope passes through untouched)."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        raw_id = incoming_id(scope["headers"])
        if raw_id is None:
            request_id = new_request_id()
            raw_id = request_id.encode("ascii")
        else:
            request_id = raw_id.decode("ascii")
        scope[SCOPE_KEY] = request_id
        header = (HEADER_KEY, raw_id)
        status = NOT_STARTED

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # A new list: responses may share theirs (pre-built ones do).
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        observer = self._observer
        if observer is not None:
            observer.started()
        started = perf_counter()
        try:
            try:
                await self._app(scope, receive, send_with_id)
            except Exception as error:
                handler = self._handler_for(error)
                if handler is None or status != NOT_STARTED:
                    raise
                handled = await handler(Request(scope, receive), error)
                # A handled error may be raised again on another request: no traceback to grow.
                error.__traceback__ = None
                await handled(scope, receive, send_with_id)
        except Exception as error:
            response = await self._on_error(Request(scope), error)
            if status == NOT_STARTED:
                await response(scope, receive, send_with_id)
            raise
        finally:
            if observer is not None:
                observer.finished(scope, status or 500, perf_counter() - started)

    def _handler_for(self, error: Exception) -> ErrorHandler | None:
        for cls in type(error).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return handler
        return None
