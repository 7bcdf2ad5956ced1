"""The wire form of timestamps: RFC 3339, UTC, ``Z``, always six fraction digits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# Bounds a day inside datetime's range, so that moving to UTC cannot leave it; Hypothesis takes
# them naive and adds the zone itself.
@given(
    st.datetimes(
        datetime(2, 1, 1),  # noqa: DTZ001
        datetime(9998, 12, 31),  # noqa: DTZ001
        timezones=st.timezones(),
    ),
)
def test_any_moment_is_written_as_isoformat_writes_it_in_utc(moment: datetime) -> None:
    expected = moment.astimezone(UTC).isoformat(timespec="microseconds")
    assert rfc3339(moment) == expected.removesuffix("+00:00") + "Z"
