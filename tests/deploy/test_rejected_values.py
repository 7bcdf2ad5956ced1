"""Values the chart must refuse: helm template fails, and says why.

Each file in ``rejected/`` starts with a comment ``# expect: <text of the error>``. Most are
refused by ``values.schema.json``; the ones comparing two values by the chart's own checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

from tests.deploy.chart import template

REJECTED: Final = sorted((Path(__file__).parent / "rejected").glob("*.yaml"))


def expected_error(values: Path) -> str:
    first_line = values.read_text().splitlines()[0]
    assert first_line.startswith("# expect: "), f"{values.name} must start with '# expect: ...'"
    return first_line.removeprefix("# expect: ").strip()


def test_there_are_rejected_value_sets() -> None:
    assert len(REJECTED) >= 8


@pytest.mark.parametrize("values", REJECTED, ids=[path.stem for path in REJECTED])
def test_chart_rejects_wrong_values(values: Path) -> None:
    result = template(values)
    assert result.returncode != 0, f"helm accepted {values.name}:\n{result.stdout[:2000]}"
    assert expected_error(values) in result.stderr, result.stderr
    assert result.stdout == ""
