"""Settings that are checked when read, so a mistake stops the start instead of a migration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from user_service.settings import Settings


def test_the_legacy_time_zone_is_utc_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("USER_SERVICE_LEGACY_TIME_ZONE", raising=False)
    assert Settings().legacy_time_zone == "UTC"
    monkeypatch.setenv("USER_SERVICE_LEGACY_TIME_ZONE", "Europe/Warsaw")
    assert Settings().legacy_time_zone == "Europe/Warsaw"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "CEST+2"])
def test_a_legacy_time_zone_that_is_no_iana_name_is_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Settings(legacy_time_zone=zone)


def test_the_command_timeout_must_outlast_the_statement_timeout() -> None:
    with pytest.raises(ValueError, match="command_timeout_seconds must be longer"):
        Settings(statement_timeout_ms=8000, command_timeout_seconds=6)
    assert Settings(statement_timeout_ms=0, command_timeout_seconds=1).command_timeout == 1


@pytest.mark.parametrize(("statement_ms", "command"), [(5000, 6.0), (30000, 31.0), (0, 6.0)])
def test_an_unset_command_timeout_follows_the_statement_timeout(
    statement_ms: int, command: float
) -> None:
    assert Settings(statement_timeout_ms=statement_ms).command_timeout == command
