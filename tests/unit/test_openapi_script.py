"""``scripts/openapi.py`` (``make openapi``) writes the document the service serves."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from openapi_spec_validator import validate

SCRIPT = Path(__file__).parents[2] / "scripts" / "openapi.py"


def _run(*arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_writes_a_valid_openapi_3_1_document_of_the_users_api(tmp_path: Path) -> None:
    written = tmp_path / "openapi.json"
    _run(str(written))
    document = json.loads(written.read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == metadata.version("user-service")
    assert {"/users", "/users/{id}"} <= set(document["paths"])


def test_writes_the_same_document_to_standard_output(tmp_path: Path) -> None:
    written = tmp_path / "openapi.json"
    _run(str(written))
    assert _run("-") == written.read_text(encoding="utf-8")
