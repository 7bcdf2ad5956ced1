"""Time limits on waits for the database, kept by one timer for all the waits of one limit.

A timer per wait (asyncpg's ``command_timeout``, a timed ``Pool.acquire``) arms and cancels a
timer of the event loop for every statement: 2–4 µs with uvloop, 7 µs through
``asyncio.timeout``, about a tenth of what the service's request path costs above a bare
application's (``BENCHMARKS.md``, issue 20). Here a wait only notes when it must end; one timer,
armed while any wait is under way, looks every :data:`TICKS`-th of the limit and cancels the
tasks whose waits are over, which then raise the limit's error, as ``asyncio.timeout`` makes
them raise ``TimeoutError``. A wait is ended at most one tick after its deadline.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Final

TICKS: Final = 20
"""Looks per limit: a wait overruns its limit by at most this fraction of it (5 %)."""


class Deadlines:
    """The waits bounded by one limit, ``seconds`` each; past it, a wait raises ``error``."""

    __slots__ = ("_error", "_loop", "_tick", "_timer", "_waits", "seconds")

    def __init__(
        self, seconds: float, message: str, error: type[TimeoutError] = TimeoutError
    ) -> None:
        if seconds <= 0:
            raise ValueError("a limit must be positive")
        self.seconds = seconds
        self._tick = seconds / TICKS
        self._error = (error, message)
        self._waits: set[Wait] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def wait(self) -> Wait:
        """A wait of the current task, bounded from now: ``with deadlines.wait(): await …``."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a bounded wait needs a task")
        wait = Wait(self, task, loop.time() + self.seconds)
        self._waits.add(wait)
        if self._timer is None or self._loop is not loop:  # none armed, or on an ended loop
            self._loop = loop
            self._timer = loop.call_later(self._tick, self._look, loop)
        return wait

    def _look(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the waits that are over; look again while any is under way."""
        if loop is not self._loop:
            return
        self._timer = None
        now = loop.time()
        for wait in list(self._waits):
            if wait.task.done() or wait.task.get_loop() is not loop:  # its loop ended mid-wait
                self._waits.discard(wait)
            elif wait.deadline <= now and not wait.expired:
                wait.expired = True
                wait.task.cancel()
        if self._waits:
            self._timer = loop.call_later(self._tick, self._look, loop)


class Wait:
    """One bounded wait: a context manager around the ``await`` it bounds."""

    __slots__ = ("_cancelling", "_deadlines", "deadline", "expired", "task")

    def __init__(self, deadlines: Deadlines, task: asyncio.Task[object], deadline: float) -> None:
        self._deadlines = deadlines
        self.task = task
        self.deadline = deadline
        self.expired = False
        # Cancellations requested before this wait are the caller's, never turned into errors.
        self._cancelling = task.cancelling()

    def __enter__(self) -> Wait:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._deadlines._waits.discard(self)  # noqa: SLF001 (the two classes are one mechanism)
        # uncancel() undoes this wait's own cancellation whatever the block raised.
        if (
            self.expired
            and self.task.uncancel() <= self._cancelling
            and exc_type is asyncio.CancelledError
        ):
            error_type, message = self._deadlines._error  # noqa: SLF001
            raise error_type(message) from error
