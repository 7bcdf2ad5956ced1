"""The chart's README lists every value of ``values.yaml``, and nothing that is not one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from tests.deploy.chart import CHART
from tests.ops.deployment_files import load_yaml

FREE_FORM: Final = {
    "resources",
    "podSecurityContext",
    "securityContext",
    "parameters",
    "behavior",
    "namespaceSelector",
    "podSelector",
    "labels",
    "annotations",
}
"""Values documented as a whole, not key by key."""


def value_paths(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and key not in FREE_FORM:
            yield from value_paths(value, f"{path}.")
        else:
            yield path


def documented_paths() -> set[str]:
    readme = (CHART / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Za-z.]+)` \|", readme, re.MULTILINE))


def test_readme_documents_every_value() -> None:
    values = set(value_paths(load_yaml(CHART / "values.yaml")))
    assert values - documented_paths() == set()


def test_readme_documents_no_value_that_does_not_exist() -> None:
    values = set(value_paths(load_yaml(CHART / "values.yaml")))
    assert documented_paths() - values == set()
