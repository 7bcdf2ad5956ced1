"""Idempotent creation: a client's key for one creation, and the response recorded under it.

A client that may retry a creation (after a timeout, a dropped connection) names it with a key.
The first request with that key creates the user and records the response it got; a retry with
the same key and the same request gets the recorded response again and creates nothing; the
same key with another request is refused. What a "request" and a "response" are belongs to the
adapter: the core compares requests by the fingerprint the adapter computes and keeps responses
as opaque bytes, so it stays free of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar, Final

from user_core.model import InvalidValue, TextValue

IDEMPOTENCY_RETENTION: Final = timedelta(hours=24)
"""How long a key and its response are kept: a retry within this time gets the same response."""


@dataclass(frozen=True, slots=True)
class IdempotencyKey(TextValue):
    """A client's name for one creation: 1–255 printable ASCII characters (space included)."""

    MIN_LENGTH: ClassVar[int] = 1
    MAX_LENGTH: ClassVar[int] = 255

    @classmethod
    def check(cls, text: str) -> None:
        if not all(" " <= char <= "~" for char in text):
            raise InvalidValue("must hold printable ASCII characters only")


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A creation request under a key; ``fingerprint`` identifies the request's content.

    The adapter computes the fingerprint (e.g. a SHA-256 of the canonical body): two requests
    are "the same" exactly when their fingerprints are equal.
    """

    key: IdempotencyKey
    fingerprint: bytes


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    """The response given to the first request of a key, kept to answer its retries.

    Opaque to the core: the adapter that made it reads it back (for HTTP: status, headers, body).
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
