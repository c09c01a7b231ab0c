"""Who is at the portal's door: the client's address and browser, and the app's rate limiter
that counts their attempts."""

from __future__ import annotations

from dataclasses import dataclass

from core.agendum import Agendum
from core.security.ratelimit import Limiter, count_account_attempt, count_link_attempt


@dataclass(frozen=True)
class Visitor:
    """A request's client: IP, user agent and the rate limiter of the app serving it."""

    app: Agendum
    ip: str
    user_agent: str
    limiter: Limiter

    async def count_account_attempt(self, kind: str, location_id: int, email_key: str) -> None:
        """Count an attempt (`kind`: login, register, reset, password) at an account under the
        login limits (core.security.ratelimit.count_account_attempt); `RateLimited` when over one."""
        account = f"{location_id}:{email_key[:254]}"
        await count_account_attempt(self.limiter, self.app.settings, f"portal-{kind}", account, self.ip)

    async def count_link_attempt(self, token: str) -> None:
        """Count an attempt at an emailed or signed link under the link limits."""
        await count_link_attempt(self.limiter, self.app.settings, "portal-link", token, self.ip)
