"""``helm lint --strict`` passes for the chart's defaults and for every value set."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.chart import CHART, VALUE_SETS_WITH_DEV, helm, values_flags


@pytest.mark.parametrize("values", VALUE_SETS_WITH_DEV.values(), ids=VALUE_SETS_WITH_DEV.keys())
def test_chart_lints_strictly(values: Path | None) -> None:
    result = helm("lint", "--strict", str(CHART), *values_flags(values))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout
