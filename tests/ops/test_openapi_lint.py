"""The OpenAPI document linted by rules no one here wrote: Spectral's and the OWASP API Top 10's.

The document is the one a service with authentication and rate limiting on serves (it says the
most); ``.spectral.yaml`` extends both rulesets and turns off only what the design rejects, each
with its reason. Spectral comes from ``make tools`` (``.tools/spectral``); a missing one fails the
test, never skips it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from scripts.openapi import openapi_document

from tests.ops.deployment_files import ROOT

TOOL = ROOT / ".tools" / "spectral"
SPECTRAL = TOOL / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / ".spectral.yaml"
_OFF = re.compile(r":\s*off\s*$")
_OVERRIDE_PART = re.compile(r"\s*(- files:|files:|rules:|- \"|- ')")


def _lint(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Spectral's findings on ``document``.

    The ruleset and the document are copied beside Spectral's own ``node_modules``, where the
    ruleset's ``extends`` finds the OWASP package and its ``overrides`` find the document.
    """
    assert SPECTRAL.is_file(), f"{SPECTRAL} is missing: run `make tools` (it installs the pin)"
    work = Path(tempfile.mkdtemp(dir=TOOL, prefix="lint-"))
    try:
        shutil.copy(RULESET, work / RULESET.name)
        (work / "openapi.json").write_text(json.dumps(document))
        result = subprocess.run(
            [str(SPECTRAL), "lint", "openapi.json", "--ruleset", RULESET.name, "--format", "json"],
            cwd=work,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        shutil.rmtree(work)
    assert result.stdout.strip(), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_the_document_has_no_error_under_spectral_and_owasp_rules() -> None:
    findings = _lint(openapi_document(secured=True, rate_limited=True))
    errors = [
        f"{f['code']} at {'.'.join(map(str, f['path']))}" for f in findings if f["severity"] == 0
    ]
    assert errors == []


def test_the_linter_finds_what_it_should() -> None:
    document = openapi_document(secured=True, rate_limited=True)
    del document["components"]["schemas"]["UserResource"]["properties"]["name"]["maxLength"]
    codes = {finding["code"] for finding in _lint(document)}
    assert "owasp:api4:2023-string-limit" in codes


def test_every_rule_turned_off_says_why() -> None:
    text = RULESET.read_text()
    ruleset = yaml.safe_load(text)
    # YAML 1.1, as PyYAML reads it, takes `off` for false.
    turned_off = [name for name, value in ruleset["rules"].items() if value in ("off", False)]
    turned_off += [
        name
        for override in ruleset["overrides"]
        for name, value in override["rules"].items()
        if value in ("off", False)
    ]
    assert turned_off
    # Each `off`, or run of them, sits under a comment: above it come only other `off` lines and
    # the override's `files:` and `rules:` lines.
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if not _OFF.search(line):
            continue
        above = number - 1
        while above >= 0 and (_OFF.search(lines[above]) or _OVERRIDE_PART.match(lines[above])):
            above -= 1
        assert above >= 0, f"no reason for: {line}"
        assert lines[above].strip().startswith("# "), f"no reason for: {line}"
