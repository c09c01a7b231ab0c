"""Choosing a time on a phone: a fortnight of free slots grouped by local day, one day shown at a
time, with links to earlier and later fortnights within the bookable window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import clock

DAYS = 14  # days one slot page shows


@dataclass(frozen=True)
class Day:
    """A local date with free times, and whether it is the one shown."""

    date: dt.date
    count: int
    selected: bool


@dataclass(frozen=True)
class Window:
    """The local days a slot page shows: from `first_day`, `start` (never before now) to `end`;
    `earlier` and `later` are the first days of the neighbouring pages (None where there is none)."""

    first_day: dt.date
    start: dt.datetime
    end: dt.datetime
    earlier: dt.date | None
    later: dt.date | None


def window(wanted: dt.date | None, tz: ZoneInfo, max_advance_days: int, days: int = DAYS) -> Window:
    """The page of `days` days from `wanted` (default today), kept between today and the last
    bookable day (`max_advance_days` from now): a date further ahead shows that last day, an
    earlier one today, so no date, however far, reaches the slot engine out of range."""
    now = clock.now()
    today = now.astimezone(tz).date()
    last = (now + dt.timedelta(days=max_advance_days)).astimezone(tz).date()
    first = min(max(wanted or today, today), last)
    step = dt.timedelta(days=days)
    return Window(
        first_day=first,
        start=max(dt.datetime.combine(first, dt.time(), tzinfo=tz), now),
        end=dt.datetime.combine(first + step, dt.time(), tzinfo=tz),
        earlier=max(first - step, today) if first > today else None,
        later=first + step if first + step <= last else None,
    )


def pick_day(slots: list, tz: ZoneInfo, wanted: dt.date | None) -> tuple[list[Day], list]:
    """The days that have free slots and the slots of the chosen day: `wanted` if it has any,
    else the first day that does."""
    by_day: dict[dt.date, list] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    chosen = wanted if wanted in by_day else next(iter(by_day), None)
    days = [Day(date, len(day_slots), date == chosen) for date, day_slots in by_day.items()]
    return days, [] if chosen is None else by_day[chosen]
