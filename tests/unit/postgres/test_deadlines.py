"""Bounded waits: past its limit a wait raises the limit's error, and only its own."""

from __future__ import annotations

import asyncio
import time

import pytest

from user_postgres.deadlines import TICKS, Deadlines

pytestmark = pytest.mark.anyio

LIMIT = 0.2
LATE = LIMIT / TICKS


class Late(TimeoutError):
    pass


async def test_a_wait_past_its_limit_raises_the_limits_error_within_a_tick() -> None:
    deadlines = Deadlines(LIMIT, "too slow", Late)
    started = time.monotonic()
    with pytest.raises(Late, match="too slow"), deadlines.wait():
        await asyncio.sleep(10)
    took = time.monotonic() - started
    assert LIMIT <= took < LIMIT + 2 * LATE + 0.05, took
    await asyncio.sleep(0)  # the task was not left cancelled: it goes on


async def test_waits_that_end_in_time_raise_nothing_and_leave_no_timer() -> None:
    deadlines = Deadlines(LIMIT, "too slow")

    async def short(seconds: float) -> float:
        with deadlines.wait():
            await asyncio.sleep(seconds)
        return seconds

    assert await asyncio.gather(*(short(LIMIT / 4) for _ in range(50))) == [LIMIT / 4] * 50
    await asyncio.sleep(2 * LATE)
    assert deadlines._timer is None  # noqa: SLF001 (nothing left to look at)


async def test_each_wait_has_its_own_deadline() -> None:
    deadlines = Deadlines(LIMIT, "too slow")

    async def waits(after: float) -> str:
        await asyncio.sleep(after)
        try:
            with deadlines.wait():
                await asyncio.sleep(LIMIT * 0.75)
        except TimeoutError:
            return "timed out"
        return "done"

    # The second wait starts while the first is under way and ends after the first's deadline.
    assert list(await asyncio.gather(waits(0), waits(LIMIT * 0.5))) == ["done", "done"]


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    deadlines = Deadlines(LIMIT, "too slow")

    async def bounded() -> None:
        with deadlines.wait():
            await asyncio.sleep(10)

    task = asyncio.create_task(bounded())
    await asyncio.sleep(LIMIT / 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_cancellation_from_outside_after_the_deadline_stays_a_cancellation() -> None:
    deadlines = Deadlines(LIMIT, "too slow")
    cancelled_late = asyncio.Event()

    async def bounded() -> None:
        with deadlines.wait():
            try:
                await asyncio.sleep(10)
            finally:
                cancelled_late.set()
                await asyncio.sleep(LIMIT)  # cleanup that outlives the deadline, cancelled too

    task = asyncio.create_task(bounded())
    await cancelled_late.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Deadlines(0, "never")
