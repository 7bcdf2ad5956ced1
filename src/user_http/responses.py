"""Responses whose bodies msgspec encodes straight to bytes, with one shared encoder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import msgspec
from starlette.responses import Response

JSON: Final = "application/json"
PROBLEM_JSON: Final = "application/problem+json"

_encoder = msgspec.json.Encoder()
encode = _encoder.encode
"""Encode a Struct (or builtin value) to JSON bytes."""


def json_response(
    body: object, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` encoded as ``application/json``."""
    return Response(encode(body), status_code, headers, JSON)


class EncodedResponse(Response):
    """A response built from bytes: the body and headers given encoded, lower-case names.

    The same response as ``Response(body, status_code, headers, media_type)``, without its
    per-response work on the headers (a user's response is on the hot path; issue 20).
    """

    def __init__(
        self,
        body: bytes,
        status_code: int,
        media_type: str,
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.body = body
        self.raw_headers = [
            *headers,
            (b"content-length", b"%d" % len(body)),
            (b"content-type", _CONTENT_TYPES.get(media_type) or media_type.encode("latin-1")),
        ]


_CONTENT_TYPES: Final = {JSON: JSON.encode(), PROBLEM_JSON: PROBLEM_JSON.encode()}
