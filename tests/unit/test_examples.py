"""The examples in the README and examples/ run and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_embedding_example_runs_against_the_in_memory_repository() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "embed_user_core.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.splitlines() == [
        "created #1 Ada Lovelace <ada@example.com>",
        "refused: name is taken",
        "invalid name: must not be empty",
        "invalid email: is not a valid email address",
        "found 1 user(s) named ada lovelace",
    ]
