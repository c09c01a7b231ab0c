"""Who is at the portal's door: the client's address and browser, and the app's rate limiter
that counts their attempts."""

from __future__ import annotations

from dataclasses import dataclass

from core import plugins
from core.ratelimit import Limiter, enforce, ip_key


@dataclass(frozen=True)
class Visitor:
    """A request's client: IP, user agent and the rate limiter of the app serving it."""

    ip: str
    user_agent: str
    limiter: Limiter

    async def count_account_attempt(self, kind: str, location_id: int, email_key: str) -> None:
        """Count an attempt (`kind`: login, register, reset, password) per IP and per account
        under the login limits; `RateLimited` when over either."""
        settings = plugins.current().settings
        await enforce(self.limiter, f"portal-{kind}:ip:{ip_key(self.ip)}", settings.login_limit_per_ip)
        await enforce(self.limiter, f"portal-{kind}:account:{location_id}:{email_key[:254]}", settings.login_limit_per_account)

    async def count_link_attempt(self, token: str) -> None:
        """Count an attempt at an emailed or signed link, per IP and per token (the link limits)."""
        settings = plugins.current().settings
        await enforce(self.limiter, f"portal-link:ip:{ip_key(self.ip)}", settings.link_limit_per_ip)
        await enforce(self.limiter, f"portal-link:token:{str(token)[:64]}", settings.link_limit_per_token)
