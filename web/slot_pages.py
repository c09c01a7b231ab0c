"""Pages that show free slots get the limits of the GraphQL slot fields: each page counts toward
the client's per-IP slot limit (the 429 page over it) and computes its slots under the customer
slot budget (core.availability.budget), showing a message instead of slots when they would cost more.

    shown = await page_slots(request, lambda charge: free_slots(..., charge), location=location)
    if isinstance(shown, Response):
        return shown
    days, chosen = pick_day(shown.slots, tz, wanted)   # and `refusal=shown.refusal` to the picker
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from core.availability.budget import LIMIT_KEY, Charge, SlotBudget
from core.errors import QueryTooCostly
from core.models import Location
from web.ratelimit import limited

TOO_MANY = "There are too many free times to show at once. Please choose one calendar, or contact us to book."


@dataclass(frozen=True)
class PageSlots:
    """The slots a page shows, or why it shows none (`refusal`: over the slot budget)."""

    slots: list
    refusal: str | None = None

    @property
    def status(self) -> int:
        """The page's HTTP status: 422 when the slots were refused."""
        return 422 if self.refusal else 200


async def page_slots(
    request: Request, compute: Callable[[Charge], Awaitable[list]], *, location: Location | None = None
) -> PageSlots | Response:
    """The slots `compute(charge)` finds (it charges their cost before computing any), or the
    refusal to show; the 429 page when the client is over the per-IP slot limit."""
    settings = request.app.state.settings
    if refused := await limited(request, LIMIT_KEY, settings.slot_limit_per_ip, location=location):
        return refused
    try:
        return PageSlots(await compute(SlotBudget().ticket(settings.slot_budget).charge))
    except QueryTooCostly:
        return PageSlots([], TOO_MANY)
