"""``/openapi.json`` and ``/docs``: the API's own description, and a page to try it out.

The document is encoded once and served as is; ``/docs`` is Swagger UI on that document, its files
served by the service itself under ``/docs/assets/`` (see :mod:`user_http.docs_viewer`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from user_http.conditional import none_match_tag
from user_http.docs_viewer import (
    ASSETS,
    CONTENT_SECURITY_POLICY,
    LoadedAsset,
    load_asset,
    render_page,
)
from user_http.responses import JSON, encode

_PAGE_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY}
_HTML = "text/html; charset=utf-8"


class DocsEndpoints:
    """Serves the document given to :meth:`publish` (the route table must exist first)."""

    def __init__(self) -> None:
        self._document = b"{}"
        self._page = b""
        # Read on first request, then kept: most apps (and most tests) never serve them.
        self._assets: dict[str, LoadedAsset] = {}

    def publish(self, document: Mapping[str, Any]) -> None:
        """Serve ``document`` from now on, as JSON and in the viewer."""
        self._document = encode(document)
        self._page = render_page(document["info"]["title"])

    async def openapi(self, _request: Request) -> Response:
        """``GET /openapi.json``."""
        return Response(self._document, media_type=JSON)

    async def page(self, _request: Request) -> Response:
        """``GET /docs``."""
        return Response(self._page, headers=_PAGE_HEADERS, media_type=_HTML)

    async def asset(self, request: Request) -> Response:
        """``GET /docs/assets/{name}``: a file of the viewer; ``304`` if the client has it."""
        name: str = request.path_params["name"]
        asset = ASSETS.get(name)
        if asset is None:
            raise HTTPException(404)
        loaded = self._assets.get(name)
        if loaded is None:
            loaded = await run_in_threadpool(load_asset, asset)
            self._assets[name] = loaded
        headers = {
            "ETag": f'"{loaded.etag}"',
            # Kept by the browser but checked at each use, so an upgrade is seen at once.
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if none_match_tag(request.headers.get("if-none-match"), loaded.etag):
            return Response(status_code=304, headers=headers)
        return Response(loaded.content, headers=headers, media_type=loaded.media_type)
