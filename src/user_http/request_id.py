"""``X-Request-ID`` on every response: echoed when the client sent a sane one, else generated."""

from __future__ import annotations

import re
from random import getrandbits
from typing import Final

from starlette.types import Scope

REQUEST_ID_HEADER: Final = "X-Request-ID"
SCOPE_KEY: Final = "user_http.request_id"
"""Where :class:`~user_http.edge.Edge` keeps the request id in the scope, for handlers and logs."""

HEADER_KEY: Final = REQUEST_ID_HEADER.lower().encode("latin-1")
_SANE = re.compile(rb"[A-Za-z0-9._:+/=-]{1,128}")
_VERSION_AND_VARIANT_BITS = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4_RFC_4122 = (0x4000 << 64) | (0x8000 << 48)


def new_request_id() -> str:
    """A random UUID (version 4) as 32 hex digits.

    From Python's own generator, as OpenTelemetry makes its trace ids: a request id must be
    unique, not secret, and ``os.urandom`` is a system call on every request (``uuid.uuid4``
    costs twice that again). The generator is seeded anew in each forked worker.
    """
    return f"{getrandbits(128) & _VERSION_AND_VARIANT_BITS | _VERSION_4_RFC_4122:032x}"


def request_id_of(scope: Scope) -> str:
    """The id the edge gave this request; one is given now if the edge never ran."""
    request_id: str | None = scope.get(SCOPE_KEY)
    if request_id is None:
        request_id = scope[SCOPE_KEY] = new_request_id()
    return request_id


def incoming_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The client's ``X-Request-ID``, if it sent a sane one."""
    for key, value in headers:
        if key == HEADER_KEY:
            return value if _SANE.fullmatch(value) else None
    return None
