"""Stopping well: readiness fails from the moment the process is asked to stop.

uvicorn already stops gracefully on SIGTERM: it closes its listening socket, lets in-flight
requests finish within ``timeout_graceful_shutdown``, then runs the lifespan's end (which closes
the pool). :func:`shutdown_on_signals` makes ``/readyz`` answer 503 from the signal on, before
any of that, so that a load balancer still probing sees the service go.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

from user_http import ShutdownSignal

STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)

_Handler = Callable[[int, FrameType | None], object]


@contextmanager
def shutdown_on_signals(
    shutdown: ShutdownSignal, signals: Iterable[signal.Signals] = STOP_SIGNALS
) -> Iterator[None]:
    """Within this block, each of ``signals`` flags ``shutdown``, then runs the server's handler.

    Only a signal that a handler of the server's already catches is chained (a signal left to
    its default still ends the process at once), and only in the main thread, where Python runs
    signal handlers. The server's handlers are back in place at the end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    chained: dict[signal.Signals, tuple[_Handler, _Handler]] = {}
    for signum in signals:
        server_handler = signal.getsignal(signum)
        if callable(server_handler):
            handler = _flagging(shutdown, server_handler)
            signal.signal(signum, handler)
            chained[signum] = (server_handler, handler)
    try:
        yield
    finally:
        for signum, (server_handler, handler) in chained.items():
            if signal.getsignal(signum) is handler:
                signal.signal(signum, server_handler)


def _flagging(shutdown: ShutdownSignal, server_handler: _Handler) -> _Handler:
    def flag_then_pass_on(signum: int, frame: FrameType | None) -> None:
        shutdown.begin_shutdown()
        server_handler(signum, frame)

    return flag_then_pass_on
