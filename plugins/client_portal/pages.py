"""What every portal page shares: the portal from the URL (404 when unknown or off), the
visitor, the signed-in customer, CSRF bindings, and rendering in the location's branding."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.errors import NotFound
from plugins.client_portal.addresses import Portal, open_portal
from plugins.client_portal.sessions import SignedIn, signed_in
from plugins.client_portal.settings import NAME
from plugins.client_portal.visitor import Visitor
from web.client_ip import ip_of
from web.csrf import page_csrf_token, valid_form_csrf
from web.pages import not_found_page, render_page, security_headers
from web.sessions import new_session, read_session, write_session

EXPIRED_FORM = "This form has expired. Please try again."


def posting(request: Request) -> bool:
    """True for a POST; GET and HEAD only ever show a page."""
    return request.method == "POST"


def visitor(request: Request) -> Visitor:
    """The client of a request."""
    return Visitor(
        request.app.state.agendum,
        ip_of(request),
        request.headers.get("user-agent", "")[:500],
        request.app.state.limiter,
    )


async def portal_of(request: Request) -> Portal | Response:
    """The portal of the URL's slug, or the 404 page (unknown and off look alike)."""
    try:
        return await open_portal(request.app.state.agendum, request.path_params["slug"])
    except NotFound:
        return await not_found_page(request)


async def customer_of(request: Request, portal: Portal) -> SignedIn | None:
    """The customer signed in to this portal, or None."""
    signed = await signed_in(request)
    return signed if signed is not None and signed.portal.location.id == portal.location.id else None


def portal_page(handler: Callable[[Request, Portal], Awaitable[Response]]):
    """A page of a portal: `handler(request, portal)` runs only where the slug leads to an open portal (else 404)."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        portal = await portal_of(request)
        return portal if isinstance(portal, Response) else await handler(request, portal)

    return endpoint


def customer_page(handler: Callable[[Request, Portal, SignedIn], Awaitable[Response]]):
    """A page for the signed-in customer: `handler(request, portal, signed)`; others go to sign in."""

    @portal_page
    @functools.wraps(handler)
    async def endpoint(request: Request, portal: Portal) -> Response:
        signed = await customer_of(request, portal)
        return go(portal) if signed is None else await handler(request, portal, signed)

    return endpoint


async def page(
    request: Request, portal: Portal, template: str, *, status: int = 200, binding: str | None = None, **context
) -> Response:
    """Render a portal page. Its forms' CSRF token binds to `binding` (a link token), else to the
    visitor's session (a new anonymous one is started, and written, when they have none)."""
    fresh = None
    if binding is None:
        session = read_session(request)
        if session is None:
            session = fresh = new_session()
        binding = session.id
    values = {
        "portal": portal,
        "base": f"/portal/{portal.slug}",
        "csrf": page_csrf_token(request, binding),
        "error": None,
        "notice": None,
        **context,
    }
    response = await render_page(request, f"{NAME}/{template}", values, location=portal.location, status=status)
    if fresh is not None:
        write_session(response, request, fresh)
    return response


async def valid_post(request: Request, binding: str | None = None) -> bool:
    """True when the POSTed form's CSRF token matches `binding` (default: the visitor's session)."""
    if binding is None:
        session = read_session(request)
        if session is None:
            return False
        binding = session.id
    return await valid_form_csrf(request, binding)


def go(portal: Portal, path: str = "") -> Response:
    """303 to a page of the portal (after a POST), with the pages' security headers."""
    return security_headers(RedirectResponse(f"/portal/{portal.slug}{path}", status_code=303))


async def sign_in_page(
    request: Request, portal, *, status: int = 200, error: str | None = None, notice: str | None = None, email: str = ""
) -> Response:
    """The sign-in form."""
    return await page(
        request, portal, "signin.html", status=status, title="Sign in", error=error, notice=notice, email=email
    )
