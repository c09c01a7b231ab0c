"""Customer pages: one jinja2 environment (autoescaped) with the base layout in the location's
branding, the error pages every plugin shares (404, 410, 413, 429), and the security headers of every page.

Each app has its own `Pages` (`request.app.state.pages`): the toolkit's templates and each
plugin's folder (`PluginRoutes.templates`) under the plugin's name. A plugin's templates extend
`base.html` and are rendered by name:

    return await render_page(request, "action_links/appointment.html", {"title": ..., ...}, location=location)

Templates get `brand` (core.branding.Branding: name, colours, logo address, language), `title`,
`csp_nonce`, `request`, the global `csrf_field(token)`, and, on a location's pages, `fmt`: the one
formatter of times (core.timefmt.TimeFormatter in the location's zone and language), so every time
names its zone — `{{ fmt.datetime(appointment.starts_at) }}`; never strftime in a template. Pages run no JavaScript, and the
Content-Security-Policy allows none: CSS goes in `{% block style %}`, which is inside the base
layout's one nonce'd <style> element (style attributes are refused by the policy).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from core.branding import Branding, branding_of
from core.errors import RateLimited
from core.models import Location
from core.timefmt import TimeFormatter
from web.csrf import CSRF_FIELD
from web.linkify import linkify

TEMPLATES = Path(__file__).resolve().parent / "templates"
R = TypeVar("R", bound=Response)


class Pages:
    """The templates one app's pages render (autoescaped, strict): the toolkit's own (`base.html`,
    `error.html`: never replaced) and each plugin's folder as `<plugin name>/<file>`."""

    def __init__(self, folders: Mapping[str, str | Path] | None = None) -> None:
        for prefix in folders or {}:
            if not prefix or "/" in prefix:
                raise ValueError(f"template prefix {prefix!r} must be a non-empty name without '/'")
        plugins = PrefixLoader(
            {prefix: FileSystemLoader(Path(folder)) for prefix, folder in (folders or {}).items()}, delimiter="/"
        )
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(TEMPLATES), plugins]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["csrf_field"] = _csrf_field
        self.env.filters["linkify"] = linkify


def _csrf_field(token: str) -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


TOOLKIT_PAGES = Pages()  # the toolkit's templates alone, for an app that sets no `state.pages`


def pages_of(request: Request) -> Pages:
    """The templates of the app serving `request` (`state.pages`; the toolkit's alone when unset)."""
    return getattr(request.app.state, "pages", TOOLKIT_PAGES)


def content_security_policy(nonce: str) -> str:
    """No scripts, no plugins, no framing; images and forms only from this origin; styles only
    from the page's own nonce'd <style>."""
    return (
        "default-src 'none'; img-src 'self'; "
        f"style-src 'nonce-{nonce}'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def security_headers(response: R, nonce: str | None = None) -> R:
    """Add the headers every customer page carries (also for redirects and downloads of plugin
    routes): links carry tokens in their URLs, so never cache, never send a Referer, never frame."""
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(nonce or secrets.token_urlsafe(16))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cache-Control"] = "no-store"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    return response


async def render_page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    location: Location | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render `template` in the branding of `location` (neutral when None) with the security headers;
    a location's page gets `fmt`, its formatter of times (a context's own `fmt` wins)."""
    if location is None:
        return _render(request, template, context or {}, Branding.neutral(), status, headers)
    values = {"fmt": TimeFormatter.of(location), **(context or {})}
    return _render(request, template, values, await branding_of(location), status, headers)


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    brand: Branding,
    status: int,
    headers: dict[str, str] | None,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    values = {"title": "", **context, "brand": brand, "csp_nonce": nonce, "request": request}
    html = pages_of(request).env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=headers)
    return security_headers(response, nonce)


# ------------------------------------------------------------------ error pages


@dataclass(frozen=True)
class Contact:
    """Who to contact about an unavailable link (the diary contact)."""

    name: str = ""
    email: str = ""
    phone: str = ""

    def __bool__(self) -> bool:
        return bool(self.name or self.email or self.phone)


NOT_FOUND_TITLE = "Page not found"
NOT_FOUND_MESSAGE = "This link is not valid. Check that you opened the whole address from your message."


async def not_found_page(request: Request) -> HTMLResponse:
    """404, the same for an unknown token and for a plugin disabled at the location: no branding,
    nothing that tells one from the other."""
    context = {"title": NOT_FOUND_TITLE, "message": NOT_FOUND_MESSAGE, "contact": None, "retry_after": None}
    return _render(request, "error.html", context, Branding.neutral(), 404, None)


async def gone_page(
    request: Request,
    *,
    location: Location,
    message: str,
    owner_name: str = "",
    owner_email: str = "",
    owner_phone: str = "",
    title: str = "Link unavailable",
) -> HTMLResponse:
    """410 for a link that is used, expired or revoked: its status message, and who to contact
    (the diary contact: owner name, email, phone), in the location's branding."""
    context = {
        "title": title,
        "message": message,
        "retry_after": None,
        "contact": Contact(owner_name, owner_email, owner_phone) or None,
    }
    return await render_page(request, "error.html", context, location=location, status=410)


async def too_many_page(request: Request, refused: RateLimited, *, location: Location | None = None) -> HTMLResponse:
    """429 with Retry-After (whole seconds, at least 1), worded by the limit that engaged (the
    client's network, or everyone's attempts at one link or account)."""
    seconds = refused.retry_after
    context = {"title": "Too many attempts", "retry_after": seconds, "contact": None, "message": refused.reason}
    return await render_page(
        request, "error.html", context, location=location, status=429, headers={"Retry-After": str(seconds)}
    )


async def too_large_page(request: Request, max_bytes: int) -> HTMLResponse:
    """413 for a form larger than the body limit (web/body_limit.py refuses it before reading it)."""
    context = {
        "title": "Too much to send",
        "retry_after": None,
        "contact": None,
        "message": "What you sent is larger than this site accepts. Go back, shorten it and try again.",
    }
    return _render(request, "error.html", context, Branding.neutral(), 413, None)


async def not_found_handler(request: Request, exc: Exception) -> HTMLResponse:
    """The app's answer to an unknown URL (Starlette exception handler for 404): the same page."""
    return await not_found_page(request)
