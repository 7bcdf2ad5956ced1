"""Functional smoke test of a running user-service: create, read, conflict, delete, gone.

Run by ``helm test`` inside the service's own image (standard library only), and by hand or CI
against a port-forward::

    python smoke.py http://user-service.default.svc
    SMOKE_BASE_URL=http://127.0.0.1:8080 python smoke.py

Every user it creates has a unique name and is deleted again. Exits 0 when each step answered as
the API contract says, 1 at the first step that did not.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPResponse
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

READY_TIMEOUT_SECONDS = float(os.environ.get("SMOKE_READY_TIMEOUT_SECONDS", "120"))
"""How long the service may take to become ready (pods may still be starting)."""
REQUEST_TIMEOUT_SECONDS = 10.0


class SmokeFailure(Exception):
    """A step did not answer as the contract says."""


@dataclass(frozen=True)
class Answer:
    """An HTTP response, read whole."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


def call(
    base_url: str,
    method: str,
    path: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request; 4xx and 5xx answers are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    request = Request(f"{base_url}{path}", data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        response: HTTPResponse = urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS)
    except HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())
    with response:
        return Answer(
            response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        )


def expect(step: str, answer: Answer, status: int) -> Answer:
    """``answer`` when it has ``status``; otherwise a failure naming the step."""
    if answer.status != status:
        raise SmokeFailure(f"{step}: expected {status}, got {answer.status}: {answer.body[:500]!r}")
    print(f"ok   {step} ({status})", flush=True)
    return answer


def wait_until_ready(base_url: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
    """Poll ``/readyz`` until it answers 200 (pods may still be starting when the test runs)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            answer = call(base_url, "GET", "/readyz")
        except (URLError, OSError) as error:
            last = str(error)
        else:
            if answer.status == HTTPStatus.OK:
                print("ok   GET /readyz (200)", flush=True)
                return
            last = f"{answer.status} {answer.body[:200]!r}"
        time.sleep(2)
    raise SmokeFailure(f"GET /readyz: not ready within {timeout:.0f} s: {last}")


def run(base_url: str) -> None:
    """The scenario; raises :class:`SmokeFailure` at the first unexpected answer."""
    base_url = base_url.rstrip("/")
    wait_until_ready(base_url)
    name = f"smoke-{uuid.uuid4().hex[:12]}"
    draft = {"name": name, "email": f"{name}@example.com", "other": "helm test"}

    created = expect("POST /users", call(base_url, "POST", "/users", draft), 201)
    location = created.headers.get("location", "")
    user = created.json()
    if location != f"/users/{user['id']}" or user["name"] != name or user["version"] != 1:
        raise SmokeFailure(f"POST /users: unexpected resource {user!r} at {location!r}")

    fetched = expect(f"GET {location}", call(base_url, "GET", location), 200)
    if fetched.json() != user:
        raise SmokeFailure(f"GET {location}: {fetched.json()!r} differs from {user!r}")

    twin = {"name": name.upper(), "email": f"other-{name}@example.com"}
    expect("POST /users with a taken name", call(base_url, "POST", "/users", twin), 409)

    etag = fetched.headers.get("etag", "")
    expect(
        f"DELETE {location}", call(base_url, "DELETE", location, headers={"If-Match": etag}), 204
    )
    expect(f"GET {location} after delete", call(base_url, "GET", location), 404)


def main(argv: list[str]) -> int:
    """Run against ``argv[1]`` or ``$SMOKE_BASE_URL``; the exit status."""
    base_url = argv[1] if len(argv) > 1 else os.environ.get("SMOKE_BASE_URL", "")
    if not base_url:
        print("usage: smoke.py BASE_URL (or set SMOKE_BASE_URL)", file=sys.stderr)
        return 2
    try:
        run(base_url)
    except SmokeFailure as failure:
        print(f"FAIL {failure}", file=sys.stderr, flush=True)
        return 1
    print(f"smoke test passed against {base_url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
