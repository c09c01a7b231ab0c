"""Choosing a time on a phone: free slots grouped by local day, one day shown at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Day:
    """A local date with free times, and whether it is the one shown."""

    date: dt.date
    count: int
    selected: bool


def pick_day(slots: list, tz: ZoneInfo, wanted: str | None) -> tuple[list[Day], list]:
    """The days that have free slots and the slots of the chosen day: `wanted` (an ISO date) if
    it has any, else the first day that does."""
    by_day: dict[dt.date, list] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    try:
        chosen = dt.date.fromisoformat(wanted) if wanted else None
    except ValueError:
        chosen = None
    if chosen not in by_day:
        chosen = next(iter(by_day), None)
    days = [Day(date, len(day_slots), date == chosen) for date, day_slots in by_day.items()]
    return days, by_day.get(chosen, [])
