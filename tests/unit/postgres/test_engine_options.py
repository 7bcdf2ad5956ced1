"""The pool's options refuse settings that cannot work together."""

from __future__ import annotations

import pytest

from user_postgres import EngineOptions


@pytest.mark.parametrize(
    ("statement_timeout_ms", "command_timeout"), [(5_000, 5.0), (5_000, 1.0), (None, 0.0)]
)
def test_the_command_timeout_must_outlast_the_statement_timeout(
    statement_timeout_ms: int | None, command_timeout: float
) -> None:
    with pytest.raises(ValueError, match="command_timeout"):
        EngineOptions(statement_timeout_ms=statement_timeout_ms, command_timeout=command_timeout)


@pytest.mark.parametrize(
    ("statement_timeout_ms", "command_timeout"), [(5_000, 5.5), (None, 1.0), (5_000, None)]
)
def test_a_command_timeout_above_the_statement_timeout_or_none_is_taken(
    statement_timeout_ms: int | None, command_timeout: float | None
) -> None:
    options = EngineOptions(
        statement_timeout_ms=statement_timeout_ms, command_timeout=command_timeout
    )
    assert options.command_timeout == command_timeout
