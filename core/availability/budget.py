"""How much slot work one request may do. Each slot field of a request (or the one slot list of a
page) takes a ticket before its first await, prices its work (core.availability.cost) and charges the
price before computing any slot. A charge waits until every ticket taken beside it is priced, so
the fields that run together (a request's aliases) are decided together on the request's total:
each is refused with `QueryTooCostly` when that total is over its budget, before any of them has
computed a slot. A field that starts after others were decided is charged on top of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from core.errors import QueryTooCostly

# What slot code is given: call it with the work's cost before doing the work; it raises
# QueryTooCostly when the work is over budget.
Charge = Callable[[int], Awaitable[None]]
# The rate-limit key (per client IP) of customers' slot fields and pages (core.security.ratelimit).
LIMIT_KEY = "slots"


class SlotBudget:
    """The slot work of one request: the total cost of its priced slot fields."""

    def __init__(self) -> None:
        self.total = 0
        self._unpriced = 0
        self._all_priced = asyncio.Event()
        self._all_priced.set()

    def ticket(self, budget: int) -> Ticket:
        """A slot field starts: take its ticket before the field's first await."""
        self._unpriced += 1
        self._all_priced.clear()
        return Ticket(self, budget)

    def _priced(self, cost: int) -> None:
        self.total += cost
        self._unpriced -= 1
        if self._unpriced == 0:
            self._all_priced.set()


class Ticket:
    """One slot field's share of its request's budget."""

    def __init__(self, request: SlotBudget, budget: int) -> None:
        self._request = request
        self._budget = budget
        self._open = True

    async def charge(self, cost: int) -> None:
        """Add this field's cost, wait for the fields beside it to add theirs, then raise
        `QueryTooCostly` when the request's total is over this field's budget."""
        if not self._open:
            raise RuntimeError("a slot ticket is charged once")
        self._open = False
        self._request._priced(cost)
        await self._request._all_priced.wait()
        if self._request.total > self._budget:
            raise QueryTooCostly(self._request.total, self._budget)

    def close(self) -> None:
        """The field is done; if it never charged (it failed first), the others stop waiting for it."""
        if self._open:
            self._open = False
            self._request._priced(0)
