"""The Kubernetes deployment, checked without a cluster: the Helm chart rendered by the pinned
helm, every object validated against the Kubernetes schemas, the Tiltfile evaluated, the Kind
config and the CI workflow validated. Each value set is rendered once per session.
"""

from __future__ import annotations

import pytest

from tests.deploy.chart import DEV, KIND, MINIMAL, PRODUCTION, Rendered, render


@pytest.fixture(scope="session")
def defaults() -> Rendered:
    """The chart's own values: an existing CloudNativePG Cluster, no Pooler."""
    return render()


@pytest.fixture(scope="session")
def minimal() -> Rendered:
    """An external database by URL, nothing optional."""
    return render(MINIMAL)


@pytest.fixture(scope="session")
def production() -> Rendered:
    """CloudNativePG Cluster and Pooler, HPA, PDB, NetworkPolicy, ServiceMonitor."""
    return render(PRODUCTION)


@pytest.fixture(scope="session")
def kind() -> Rendered:
    """What CI installs on its Kind cluster."""
    return render(KIND)


@pytest.fixture(scope="session")
def dev() -> Rendered:
    """What Tilt installs."""
    return render(DEV)
