"""Pages reached by a token in their address (a link emailed to a customer or passed on by
staff): one gate for all of them.

The plugin's `resolve(request, token, *context)` does the gating: it counts the attempt (rate
limits), finds what the token opens and its location, and checks that the plugin is enabled
there, raising `NotFound` for an unknown token and a disabled plugin alike, `RateLimited`, or
`LinkUnavailable` (used, expired, revoked). The gate answers those with the 404, 429 and 410
pages, so an unknown token and a disabled plugin get byte-identical 404s on every token page."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from core.errors import LinkUnavailable, NotFound, RateLimited
from core.models import Location
from web.pages import gone_page, not_found_page, too_many_page

Resolve = Callable[..., Awaitable[Any]]


async def refused_link_page(request: Request, problem: Exception, *, hint: str = "") -> Response:
    """The page for a link that cannot be used: 429 when rate limited, 410 with the location's
    contact (and `hint`, what to do) when used, expired or revoked, 404 otherwise."""
    if isinstance(problem, RateLimited):
        return await too_many_page(request, problem)
    if isinstance(problem, LinkUnavailable):
        return await gone_page(
            request,
            location=await Location.get(id=problem.location_id),
            message=f"{problem.message} {hint}".strip(),
            owner_name=problem.owner_name,
            owner_email=problem.owner_email,
            owner_phone=problem.owner_phone,
        )
    return await not_found_page(request)


def token_page(resolve: Resolve, *, hint: str = "") -> Callable:
    """Decorate a page `handler(request, *context, opened)` whose address holds `{token}`: it runs
    only when `resolve(request, token, *context)` opens the token; refusals get their pages (see
    `refused_link_page`). `context`: what outer decorators pass (e.g. the portal)."""

    def decorate(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request, *context: Any) -> Response:
            try:
                opened = await resolve(request, request.path_params["token"], *context)
            except (NotFound, RateLimited, LinkUnavailable) as problem:
                return await refused_link_page(request, problem, hint=hint)
            return await handler(request, *context, opened)

        return endpoint

    return decorate
