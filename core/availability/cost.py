"""What computing free slots costs, estimated before any work from what is cheap to read: the
calendars asked about, the days of the window and the open time of their weekly rosters.

The unit is roughly one candidate slot start to evaluate (and to answer, when it is free): per
calendar a fixed share for loading its roster, exceptions and appointments, and per day one unit
for expanding the roster plus one per step of its average open time. Dated extra hours are not
counted: only staff add them, so no customer can make their work cost more than it is priced."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

from core.availability.engine import DAY_MINUTES, roster_minutes, union
from core.models import Location, RosterRule

WEEK_MINUTES = 7 * DAY_MINUTES
# A calendar's queries (roster, exceptions, appointments) cost about as much as this many candidates.
CALENDAR_COST = 40


def window_days(start: dt.datetime, end: dt.datetime) -> int:
    """The days a window [start, end) spans, counting a part of a day as a day (at least 1)."""
    return max(1, math.ceil((end - start) / dt.timedelta(days=1)))


def open_minutes_per_week(roster: Iterable[tuple[int, int, int]]) -> int:
    """The minutes a weekly roster of (weekday, start, end) windows is open (a window whose end
    is not after its start runs into the next day), at most the whole week."""
    by_weekday: dict[int, list[tuple[int, int]]] = {}
    for weekday, start, end in roster:
        by_weekday.setdefault(weekday, []).append(roster_minutes(start, end))
    total = sum(end - start for windows in by_weekday.values() for start, end in union(windows))
    return min(total, WEEK_MINUTES)


def slot_cost(open_minutes: Sequence[int], days: int, step_minutes: int) -> int:
    """The cost of the free slots of calendars open `open_minutes` a week each (one entry per
    calendar) over `days` days on a `step_minutes` grid: per calendar CALENDAR_COST, plus per day
    1 and its average open time in steps."""
    return sum(CALENDAR_COST + days + math.ceil(days * minutes / (7 * step_minutes)) for minutes in open_minutes)


async def estimate(location: Location, calendar_ids: Sequence[int], start: dt.datetime, end: dt.datetime) -> int:
    """The cost of the free slots of these calendars of `location` in [start, end): one query
    for their rosters, nothing else. A calendar listed twice (for two services) costs twice."""
    if not calendar_ids:
        return 0
    rows = await RosterRule.filter(calendar_id__in=list(calendar_ids)).values_list(
        "calendar_id", "weekday", "start_minute", "end_minute"
    )
    rosters: dict[int, list[tuple[int, int, int]]] = {calendar_id: [] for calendar_id in calendar_ids}
    for calendar_id, weekday, start_minute, end_minute in rows:
        rosters[calendar_id].append((weekday, start_minute, end_minute))
    minutes = [open_minutes_per_week(rosters[calendar_id]) for calendar_id in calendar_ids]
    return slot_cost(minutes, window_days(start, end), location.slot_step_minutes)
