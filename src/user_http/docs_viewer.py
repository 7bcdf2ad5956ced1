"""The interactive API page: Swagger UI's page and the few files it loads, all served by us.

The viewer is Swagger UI's own build (swagger-ui-dist) as the package ``swagger-ui-py`` ships
it; that package's Python code is never imported, only these files are read. Just the files
named in :data:`ASSETS` are served, under :data:`ASSETS_PATH`, with our boot script beside them:
the page has no inline script and loads nothing from elsewhere, so it works offline and its
Content-Security-Policy allows the service's own origin only.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Final

ASSETS_PATH: Final = "/docs/assets"
"""Where the page's files are served: ``/docs/assets/<name>``, a name of :data:`ASSETS`."""

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        # swagger-ui.css draws its icons as data: SVGs; the page's icon is an empty data: URL.
        "img-src 'self' data:",
        # The document, and the requests sent with "Execute".
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""What the page may load and do: the service's own scripts, styles and API, nothing else."""

_JAVASCRIPT = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"


def _viewer_directory() -> Path:
    # find_spec locates the package without running it (it would import Jinja2 and PyYAML).
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "swagger-ui-py is not installed: it carries the /docs viewer (user-service[http])"
        )
    return Path(spec.submodule_search_locations[0]) / "static"


@dataclass(frozen=True, slots=True)
class Asset:
    """A file the page loads."""

    path: Path
    media_type: str


@dataclass(frozen=True, slots=True)
class LoadedAsset:
    """A file's content, ready to serve, with its strong entity tag."""

    content: bytes
    media_type: str
    etag: str
    """The opaque part of the tag (unquoted): a digest of the content."""


_VIEWER: Final = _viewer_directory()
_OWN: Final = Path(__file__).parent / "static"

ASSETS: Final[Mapping[str, Asset]] = {
    "swagger-ui.css": Asset(_VIEWER / "swagger-ui.css", _CSS),
    "swagger-ui-bundle.js": Asset(_VIEWER / "swagger-ui-bundle.js", _JAVASCRIPT),
    "swagger-init.js": Asset(_OWN / "swagger-init.js", _JAVASCRIPT),
}
"""Every file served under :data:`ASSETS_PATH`, by name; any other name is ``404``."""


def load_asset(asset: Asset) -> LoadedAsset:
    """Read ``asset`` (a blocking read of up to a few MB: run it off the event loop)."""
    content = asset.path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:32]
    return LoadedAsset(content, asset.media_type, digest)


def render_page(title: str) -> bytes:
    """The page that boots the viewer on ``openapi.json``; it lies at ``/docs``."""
    assets = ASSETS_PATH.removeprefix("/")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui">
<noscript>This page needs JavaScript. The API's description is
<a href="openapi.json">openapi.json</a>.</noscript>
</div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
""".encode()
