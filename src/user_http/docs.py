"""``/openapi.json`` and ``/docs``: the API's own description, encoded once and served as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from user_http.docs_page import render_docs_page
from user_http.responses import JSON, encode

# The page has no script and loads nothing: forbid everything but its own inline style.
_PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}


class DocsEndpoints:
    """Serves the document given to :meth:`publish` (the route table must exist first)."""

    def __init__(self) -> None:
        self._document = b"{}"
        self._page = b""

    def publish(self, document: Mapping[str, Any]) -> None:
        """Serve ``document`` from now on, as JSON and as a page."""
        self._document = encode(document)
        self._page = render_docs_page(document).encode()

    async def openapi(self, _request: Request) -> Response:
        """``GET /openapi.json``."""
        return Response(self._document, media_type=JSON)

    async def page(self, _request: Request) -> Response:
        """``GET /docs``."""
        return Response(self._page, headers=_PAGE_HEADERS, media_type="text/html; charset=utf-8")
