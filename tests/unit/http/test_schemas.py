"""The wire form of timestamps: RFC 3339, UTC, ``Z``, always six fraction digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from user_http.schemas import rfc3339


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC), "2026-11-25T09:00:00.123456Z"),
        (datetime(2026, 11, 25, 9, 0, 0, tzinfo=UTC), "2026-11-25T09:00:00.000000Z"),
        (
            datetime(2026, 11, 25, 10, 30, 0, 5, tzinfo=timezone(timedelta(hours=1, minutes=30))),
            "2026-11-25T09:00:00.000005Z",
        ),
    ],
)
def test_timestamps_are_utc_with_z_and_microseconds(moment: datetime, text: str) -> None:
    assert rfc3339(moment) == text
