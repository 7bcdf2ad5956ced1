"""Write the service's OpenAPI 3.1 document to a file, with no server and no database.

    python scripts/openapi.py [--secured] [--rate-limited] [PATH]
        (default: openapi.json; ``-`` writes to standard output)

It is the document the service serves at ``/openapi.json``: the HTTP adapter builds it from its
route table whatever repository stands behind it, so the in-memory one stands in for PostgreSQL.
``--secured`` and ``--rate-limited`` give the document of a service with authentication and rate
limiting on (the one Spectral lints: it says the most).
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
from user_http import InvalidToken, Principal, RateLimits, create_app


class _RefuseEveryToken:
    """Stands in for the JWKS verifier: only whether authentication is on changes the document."""

    def verify(self, token: str) -> Principal:
        del token  # never read: every token is refused
        raise InvalidToken("no keys")


def openapi_document(*, secured: bool = False, rate_limited: bool = False) -> dict[str, Any]:
    """The document, as ``GET /openapi.json`` answers it."""
    app = create_app(
        UserService(InMemoryUserRepository(), SystemClock()),
        verifier=_RefuseEveryToken() if secured else None,
        rate_limits=RateLimits() if rate_limited else None,
    )
    with TestClient(app) as client:
        response = client.get("/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    return document


def main(argv: list[str] | None = None) -> None:
    """Write the document where the command line says."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="openapi.json", help="file, or - for stdout")
    parser.add_argument("--secured", action="store_true", help="with authentication on")
    parser.add_argument("--rate-limited", action="store_true", help="with rate limiting on")
    arguments = parser.parse_args(argv)
    document = openapi_document(secured=arguments.secured, rate_limited=arguments.rate_limited)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if arguments.path == "-":
        sys.stdout.write(text)
    else:
        Path(arguments.path).write_text(text, encoding="utf-8")
        print(f"wrote {arguments.path}", file=sys.stderr)


if __name__ == "__main__":
    main()
