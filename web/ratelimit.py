"""Rate limits for page routes: count every attempt, answer the 429 page when over the limit.

    if refused := await limited(request, "action-link", settings_rule):
        return refused

The count is per client IP (from web/client_ip.py, trusting only AGENDUM_TRUSTED_PROXIES; IPv6
per /64) under the name `key`; with `per_ip=False` the key is used as given (e.g. per account or
per token hash). The counters are the app's limiter (`app.state.limiter`): in memory, or Redis
when AGENDUM_REDIS_URL is set, so every process serving counts the same attempts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from core.errors import RateLimited
from core.models import Location
from core.security.ratelimit import ip_key
from core.settings import RateLimit
from web.client_ip import ip_of
from web.pages import too_many_page


async def limited(
    request: Request, key: str, rule: RateLimit, *, per_ip: bool = True, location: Location | None = None
) -> Response | None:
    """Count one attempt; None when allowed, else the 429 page (with Retry-After) to return."""
    name = f"{key}:ip:{ip_key(ip_of(request))}" if per_ip else key
    retry_after = await request.app.state.limiter.hit(name, rule)
    if retry_after is None:
        return None
    return await too_many_page(request, RateLimited(retry_after), location=location)
