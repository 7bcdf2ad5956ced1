"""A clock that tells the time the test sets, for repeatable timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """A :class:`~user_core.ports.Clock` that stands still until told to move.

    ``tick`` makes every reading advance by that much, so successive writes get distinct,
    increasing timestamps without reading the system clock.
    """

    def __init__(
        self,
        start: datetime = datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC),
        tick: timedelta = timedelta(0),
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self.current = start
        self.tick = tick

    def now(self) -> datetime:
        """The current reading; then advance by ``tick``."""
        reading = self.current
        self.current += self.tick
        return reading

    def advance(self, by: timedelta) -> None:
        """Move the clock forward."""
        self.current += by
