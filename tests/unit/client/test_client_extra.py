"""``pip install user-service[client]`` brings httpx and nothing of the server.

The import side is import-linter's contract (user_client imports user_core and httpx only); this
is the install side: the extra names no server library and no other extra that would.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).parents[3] / "pyproject.toml"
SERVER_ONLY = {"starlette", "sqlalchemy", "asyncpg", "msgspec", "alembic", "uvicorn"}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return match[0].lower().replace("_", "-")


def test_the_client_extra_is_httpx_alone() -> None:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    client = project["optional-dependencies"]["client"]
    assert [_name(requirement) for requirement in client] == ["httpx"]
    # The core's own: the Unicode-standards libraries of its identity rules, nothing of a server.
    core = {_name(requirement) for requirement in project["dependencies"]}
    assert core == {"precis-i18n", "idna", "unicodedataplus"}
    assert not SERVER_ONLY & {_name(requirement) for requirement in client}


def test_the_client_package_is_shipped() -> None:
    packages = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["packages"]
    assert {"user_core", "user_client"} <= set(packages)
