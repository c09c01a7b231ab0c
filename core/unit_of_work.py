"""One transaction around a whole request, and the work that must wait until it has committed.

Core's changes commit in transactions of their own and then run their after-commit work (the
`appointment_changed` hooks, waking the outbox workers). Inside `unit_of_work()` those
transactions become part of the one outer transaction (savepoints), and their after-commit work
waits until it commits, so nothing outside sees or hears of a change that could still roll back."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from tortoise.transactions import in_transaction

_pending: ContextVar[list[Callable[[], Any]] | None] = ContextVar("agendum_after_commit", default=None)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[None]:
    """Run the block in one transaction; after it commits, the work deferred in it, in order."""
    deferred: list[Callable[[], Any]] = []
    token = _pending.set(deferred)
    try:
        async with in_transaction():
            yield
    finally:
        _pending.reset(token)
    for work in deferred:
        result = work()
        if inspect.isawaitable(result):
            await result


def defer(work: Callable[[], Any]) -> bool:
    """Keep `work` for after the current unit of work commits; False when there is none (do it now)."""
    pending = _pending.get()
    if pending is None:
        return False
    pending.append(work)
    return True


async def after_commit(work: Callable[[], Awaitable[Any]]) -> None:
    """Await `work` now, or after the current unit of work commits."""
    if not defer(work):
        await work()
