"""Write the service's OpenAPI 3.1 document to a file, with no server and no database.

    python scripts/openapi.py [PATH]      (default: openapi.json; ``-`` writes to standard output)

It is the document the service serves at ``/openapi.json``: the HTTP adapter builds it from its
route table whatever repository stands behind it, so the in-memory one stands in for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from user_core import SystemClock, UserService
from user_core.testing import InMemoryUserRepository
from user_http import create_app


def openapi_document() -> dict[str, Any]:
    """The document, as ``GET /openapi.json`` answers it."""
    app = create_app(UserService(InMemoryUserRepository(), SystemClock()))
    with TestClient(app) as client:
        response = client.get("/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    return document


def main(argv: list[str] | None = None) -> None:
    """Write the document where the command line says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="openapi.json", help="file, or - for stdout")
    arguments = parser.parse_args(argv)
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if arguments.path == "-":
        sys.stdout.write(text)
    else:
        Path(arguments.path).write_text(text, encoding="utf-8")
        print(f"wrote {arguments.path}", file=sys.stderr)


if __name__ == "__main__":
    main()
