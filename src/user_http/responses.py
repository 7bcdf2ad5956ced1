"""Responses whose bodies msgspec encodes straight to bytes, with one shared encoder."""

from __future__ import annotations

from collections.abc import Mapping
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
