"""``Idempotency-Key`` on ``POST /users``: the header, the request's fingerprint, the replay.

The core compares requests by fingerprint and keeps responses opaque; this module decides what
both are in HTTP. The fingerprint is the SHA-256 of the body in canonical form (fields in a fixed
order, an absent optional field as ``null``, no insignificant whitespace), so a retry that
re-serialises the same values is the same request, and any other value is another one. The
recorded response is the status, the headers a client reads (``Content-Type``, ``Location``,
``ETag``) and the body bytes; ``X-Request-ID`` stays per request.
"""

from __future__ import annotations

import hashlib
from typing import Final

from starlette.datastructures import Headers
from starlette.responses import Response

from user_core import IdempotencyKey, IdempotentRequest, InvalidInput, RecordedResponse
from user_core.model import InvalidValue

IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
RECORDED_HEADERS: Final = ("content-type", "location", "etag")
"""The response headers recorded and replayed, in this order (lower-case, as Starlette has them)."""

_HEADER_KEY = IDEMPOTENCY_KEY_HEADER.lower()
_OPTIONAL_WHITESPACE = " \t"  # RFC 9110's OWS


def idempotency_key(headers: Headers) -> IdempotencyKey | None:
    """The request's key, ``None`` without the header; a bad or repeated one is ``400``.

    Spaces and tabs around the value are not part of it (RFC 9110, section 5.5: a proxy may drop
    them), so ``"k1 "`` and ``"k1"`` name the same creation; spaces inside it are kept.
    """
    values = headers.getlist(_HEADER_KEY)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidInput.single(IDEMPOTENCY_KEY_HEADER, "must be given once")
    try:
        return IdempotencyKey(values[0].strip(_OPTIONAL_WHITESPACE))
    except InvalidValue as error:
        raise InvalidInput.single(IDEMPOTENCY_KEY_HEADER, str(error)) from None


def idempotent_request(key: IdempotencyKey, canonical_body: bytes) -> IdempotentRequest:
    """The request under ``key``, fingerprinted by its canonical body."""
    return IdempotentRequest(key, hashlib.sha256(canonical_body).digest())


def record(response: Response) -> RecordedResponse:
    """What to keep of a response to answer the retries of its request."""
    kept = tuple(
        (name, value)
        for name in RECORDED_HEADERS
        if (value := response.headers.get(name)) is not None
    )
    return RecordedResponse(response.status_code, kept, bytes(response.body))


def replay(recorded: RecordedResponse) -> Response:
    """The recorded response, as it was first sent (``X-Request-ID`` aside)."""
    return Response(recorded.body, recorded.status, dict(recorded.headers))
