"""The deployment files of the repository, read for the checks in tests/ops.

No Docker engine is needed: these tests read the files, validate them against their schemas and
run what can run without one (hadolint, the image's install steps, its health check command).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ops import _dockerfile
from tests.ops._repository import DASHBOARD, ROOT, load_json, load_yaml


@pytest.fixture(scope="session")
def dockerfile() -> _dockerfile.Dockerfile:
    """The repository's ``Dockerfile``, by stage."""
    return _dockerfile.read(ROOT / "Dockerfile")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """``docker-compose.yml`` as data."""
    return load_yaml(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    """The Grafana dashboard as data."""
    return load_json(ROOT / DASHBOARD)
