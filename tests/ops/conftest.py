"""The deployment files of the repository, read for the checks in tests/ops.

No Docker engine is needed: these tests read the files, validate them against their schemas and
run what can run without one (hadolint, the image's install steps, its health check command).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ops.deployment_files import DASHBOARD, ROOT, load_json, load_yaml
from tests.ops.dockerfile import Dockerfile
from tests.ops.dockerfile import read as read_dockerfile


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    """The repository's ``Dockerfile``, by stage."""
    return read_dockerfile(ROOT / "Dockerfile")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """``docker-compose.yml`` as data."""
    return load_yaml(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    """The Grafana dashboard as data."""
    return load_json(ROOT / DASHBOARD)
