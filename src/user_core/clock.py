"""The system clock, the production implementation of the :class:`~user_core.ports.Clock` port."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Reads the system clock in UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)
