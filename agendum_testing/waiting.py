"""Waiting for something to happen (never for a time to pass)."""

from __future__ import annotations

import asyncio
import inspect
import time


async def until(condition, timeout: float = 20.0, what: str = "condition"):
    """Poll a condition (a function, async or not) until it is truthy — something to happen,
    never a time to pass; its value. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.02)
