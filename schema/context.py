"""What every resolver can reach: the caller, settings, the rate limiter, loaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from core.access import Staff
from core.accounts import authenticate
from core.ratelimit import Limiter
from core.settings import Settings
from schema.loaders import Loaders

_UNSET = object()


@dataclass
class Context:
    """Per-request state; the app builds it from the HTTP request."""

    settings: Settings
    limiter: Limiter
    client_ip: str
    user_agent: str = ""
    bearer_token: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    _staff: Any = _UNSET

    async def staff(self) -> Staff | None:
        """The signed-in staff member (from the bearer token), looked up once per request."""
        if self._staff is _UNSET:
            self._staff = await authenticate(self.bearer_token) if self.bearer_token else None
        return self._staff


Info = StrawberryInfo[Context, None]
