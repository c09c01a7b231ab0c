"""The current instant; every rule, slot, expiry, lease and retry computation asks here.

Tests move time with `advance()` — an offset over the real clock, for the whole process, so
time still passes — and put it back with `reset()`; production never sets it.
"""

from __future__ import annotations

import datetime as dt

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC) + _offset


def advance(seconds: float) -> None:
    """Move the clock forward by `seconds` (a test seam; see the module docstring)."""
    global _offset
    _offset += dt.timedelta(seconds=seconds)


def reset() -> None:
    """Back to the real clock."""
    global _offset
    _offset = dt.timedelta(0)
