"""What every resolver can reach: the caller, settings, the rate limiter, loaders, the slot budget."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from core.availability.budget import SlotBudget
from core.models import PluginActivation
from core.security.access import Staff
from core.security.accounts import authenticate
from core.security.ratelimit import Limiter
from core.settings import Settings
from schema.loaders import Loaders


@dataclass
class Context:
    """Per-request state; the app builds it from the HTTP request. `app`: the Agendum installation
    (core.agendum), its plugin host `app.plugins`."""

    app: Any
    settings: Settings
    limiter: Limiter
    client_ip: str
    user_agent: str = ""
    bearer_token: str | None = None
    request: Any = None
    response: Any = None
    loaders: Loaders = field(default_factory=Loaders)
    slot_budget: SlotBudget = field(default_factory=SlotBudget)
    _staff: asyncio.Future | None = None

    async def staff(self) -> Staff | None:
        """The signed-in staff member (from the bearer token), looked up once per request
        even when several resolvers ask at the same time."""
        if not self.bearer_token:
            return None
        if self._staff is None:
            self._staff = asyncio.ensure_future(authenticate(self.bearer_token))
        return await self._staff

    def signed_in_as(self, staff: Staff) -> None:
        """Record the staff member the request's token was already checked to belong to."""
        self._staff = asyncio.get_running_loop().create_future()
        self._staff.set_result(staff)

    async def activations(self, location_id: int) -> list[PluginActivation]:
        """A location's plugin activations (its allow-list and the plugins' settings), read once
        per request and location, and for several locations asked at once in one query."""
        if not 0 < location_id <= 2**31 - 1:
            return []
        return await self.loaders.children(PluginActivation, "location_id").load(location_id)


Info = StrawberryInfo[Context, None]
