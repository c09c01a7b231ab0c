"""GraphiQL on `GET /graphql` without the internet: the page, under a Content-Security-Policy with a
per-response nonce, and its scripts and stylesheets, vendored in web/static/graphiql/ (README there:
packages, versions, sources, hashes) and served by the app under `/graphql/assets/`.

The asset paths carry the package versions, so they are cached as immutable; each <script> and
<link> also carries its file's Subresource Integrity hash.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route

from web.pages import TOOLKIT_PAGES, security_headers

FOLDER = Path(__file__).resolve().parent / "static" / "graphiql"
ASSETS_PREFIX = "/graphql/assets"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# What the page loads, in order: the files strawberry's own GraphiQL template loads from unpkg.com.
STYLESHEETS = ("graphiql-3.8.3/graphiql.min.css", "graphiql-plugin-explorer-1.0.2/style.css")
SCRIPTS = (
    "react-18.2.0/react.production.min.js",
    "react-dom-18.2.0/react-dom.production.min.js",
    "graphiql-3.8.3/graphiql.min.js",
    "graphiql-plugin-explorer-1.0.2/index.umd.js",
)
ASSETS = STYLESHEETS + SCRIPTS
IMMUTABLE = "public, max-age=31536000, immutable"
# The one <style> GraphiQL adds itself (react-remove-scroll-bar, while a dialog is open), which
# cannot take our nonce; on this page (body without margin, overflow hidden) its text is constant.
SCROLL_LOCK_STYLE = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='"


def content_security_policy(nonce: str) -> str:
    """Scripts and styles from this origin and the page's own nonce'd elements (and GraphiQL's
    scroll lock); fonts and images also as data: URIs (GraphiQL's stylesheet embeds its fonts);
    requests only to this origin."""
    return (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}' {SCROLL_LOCK_STYLE}; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@functools.cache
def integrity(name: str) -> str:
    """The Subresource Integrity value (sha384) of the vendored asset `name`."""
    digest = hashlib.sha384((FOLDER / name).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page (the endpoint is the page's own URL), referencing only this app's assets;
    its inline script and style carry a fresh nonce."""
    nonce = secrets.token_urlsafe(16)
    assets = [(f"{ASSETS_PREFIX}/{name}", integrity(name)) for name in ASSETS]
    html = TOOLKIT_PAGES.env.get_template("graphiql.html").render(
        csp_nonce=nonce, stylesheets=assets[: len(STYLESHEETS)], scripts=assets[len(STYLESHEETS) :]
    )
    response = security_headers(HTMLResponse(html), nonce)  # no-store, nosniff, no framing, no Referer
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    return response


async def asset(request: Request) -> Response:
    """One vendored asset with its content type, cached for a year (its path names its version);
    404 for anything not in `ASSETS`."""
    name = request.path_params["name"]
    if name not in ASSETS:
        raise HTTPException(404)
    headers = {"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    return FileResponse(FOLDER / name, media_type=CONTENT_TYPES[Path(name).suffix], headers=headers)


def graphiql_routes() -> list[Route]:
    """The route of GraphiQL's assets, `/graphql/assets/<folder>/<file>`."""
    return [Route(ASSETS_PREFIX + "/{name:path}", asset, methods=["GET", "HEAD"])]
