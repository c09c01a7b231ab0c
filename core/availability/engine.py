"""What is free: roster expansion in local wall-clock time and free slots. Pure functions, no I/O.

Time semantics: rosters are local wall-clock minutes. A roster window whose end is not after its
start ends on the next day (a night shift) and belongs to the weekday it starts on; a dated
exception changes the wall-clock minutes of its own date, whichever day's window they belong to.
A wall-clock time stands for the first instant whose local time reaches it, so a time inside a
spring-forward gap moves to the first instant that exists and an ambiguous fall-back time takes
its first occurrence. Open time runs on across midnight. Slots step in real elapsed time from the
start of each run of open time, and afresh from the midnight of each date that is open all day
(so an always-open calendar steps from every midnight). A slot needs its service's duration
inside open time; its buffer only needs to be free of other appointments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from core.models import ExceptionKind

UTC = dt.UTC
DAY_MINUTES = 24 * 60
MinuteRange = tuple[int, int]
Interval = tuple[dt.datetime, dt.datetime]
ONE_DAY = dt.timedelta(days=1)


def roster_minutes(start: int, end: int) -> MinuteRange:
    """A roster window as minutes from the midnight of its weekday: an end not after the start is
    on the next day (22:00-02:00 is 1320-1560; equal times, 08:00-08:00, are 24 hours)."""
    return (start, end if end > start else end + DAY_MINUTES)


class Grid(NamedTuple):
    """Slot starts step in real time from `start` while before `stop`; each slot ends by `close`,
    the end of the open time it lies in."""

    start: dt.datetime
    stop: dt.datetime
    close: dt.datetime


@dataclass(frozen=True)
class Availability:
    """A calendar's working time: weekly roster and dated exceptions, in a timezone."""

    tz: ZoneInfo
    roster: Mapping[int, Sequence[MinuteRange]]  # weekday (0 = Monday) -> minutes, up to the next day's
    extra: Mapping[dt.date, Sequence[MinuteRange]] = field(default_factory=dict)
    time_off: Mapping[dt.date, Sequence[MinuteRange]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        tz: ZoneInfo,
        roster: Iterable[tuple[int, int, int]],
        exceptions: Iterable[tuple[dt.date, ExceptionKind, int, int]] = (),
    ) -> Availability:
        """From (weekday, start, end) roster rows (an end not after the start is on the next day)
        and (date, kind, start, end) exceptions."""
        weekly: dict[int, list[MinuteRange]] = {}
        for weekday, start, end in roster:
            weekly.setdefault(weekday, []).append(roster_minutes(start, end))
        extra: dict[dt.date, list[MinuteRange]] = {}
        time_off: dict[dt.date, list[MinuteRange]] = {}
        for day, kind, start, end in exceptions:
            (extra if kind is ExceptionKind.EXTRA_HOURS else time_off).setdefault(day, []).append((start, end))
        return cls(tz=tz, roster=weekly, extra=extra, time_off=time_off)

    def open_minutes(self, day: dt.date) -> list[MinuteRange]:
        """The open wall-clock minute ranges of a local date (0 to 1440): its weekday's roster
        windows and the ends of the previous weekday's night windows, plus extra hours, minus time off."""
        own = [(start, min(end, DAY_MINUTES)) for start, end in self.roster.get(day.weekday(), ())]
        night = [(0, end - DAY_MINUTES) for _, end in self.roster.get((day.weekday() - 1) % 7, ()) if end > DAY_MINUTES]
        ranges = union([*own, *night, *self.extra.get(day, ())])
        return subtract(ranges, union(self.time_off.get(day, ())))

    def grids(self, first: dt.date, last: dt.date) -> list[Grid]:
        """The slot grids of the open time from `first` to `last` (local dates, inclusive), in
        order: open time joins across midnight; a grid starts where open time starts (open time
        at `first`'s midnight counts as starting there) and at the midnight of every date open all day."""
        runs: list[MinuteRange] = []  # minutes from the midnight of `first`
        whole_days: list[int] = []
        for n in range((last - first).days + 1):
            minutes = self.open_minutes(first + n * ONE_DAY)
            if minutes == [(0, DAY_MINUTES)]:
                whole_days.append(n * DAY_MINUTES)
            runs.extend((n * DAY_MINUTES + start, n * DAY_MINUTES + end) for start, end in minutes)

        def instant(minute: int) -> dt.datetime:
            return local_instant(self.tz, first + (minute // DAY_MINUTES) * ONE_DAY, minute % DAY_MINUTES)

        grids = []
        for start, end in union(runs):
            close = instant(end)
            starts = [instant(m) for m in (start, *(d for d in whole_days if start < d < end))]
            for grid_start, stop in zip(starts, [*starts[1:], close]):
                if grid_start < stop:
                    grids.append(Grid(grid_start, stop, close))
        return grids


def union(ranges: Iterable[MinuteRange]) -> list[MinuteRange]:
    """Sorted, merged minute ranges."""
    merged: list[MinuteRange] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(ranges: list[MinuteRange], holes: list[MinuteRange]) -> list[MinuteRange]:
    """Minute ranges minus holes (both sorted and merged)."""
    result = []
    for start, end in ranges:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                result.append((start, hole_start))
            start = max(start, hole_end)
            if start >= end:
                break
        if start < end:
            result.append((start, end))
    return result


@lru_cache(maxsize=65_536)
def local_instant(tz: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    """The first instant (UTC) whose local wall-clock time at `tz` reaches `minute` of `day`
    (minute 1440 is the next day's midnight)."""
    day, minute = day + dt.timedelta(days=minute // DAY_MINUTES), minute % DAY_MINUTES
    wall = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    instant = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap: find the transition, the first second whose wall clock is at or past `wall`.
    low = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())  # before the gap
    high = int(instant.timestamp())  # after it
    while high - low > 1:
        middle = (low + high) // 2
        if dt.datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return dt.datetime.fromtimestamp(high, UTC)


def merge_busy(busy: Iterable[Interval]) -> list[Interval]:
    """Busy intervals sorted and merged, so their ends increase."""
    merged: list[Interval] = []
    for start, end in sorted(busy):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def days_for(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The local dates (first, last) whose roster and exceptions decide the slots between two
    instants: from the day before `start`'s date (a night window or a date open all day starts a
    grid there) to the day after `end`'s (in case a clock turned back across midnight)."""
    return start.astimezone(tz).date() - ONE_DAY, end.astimezone(tz).date() + ONE_DAY


def free_slots(
    availability: Availability,
    busy: Iterable[Interval],
    *,
    duration: dt.timedelta,
    buffer: dt.timedelta,
    step: dt.timedelta,
    window_start: dt.datetime,
    window_end: dt.datetime,
    earliest: dt.datetime | None = None,
    latest: dt.datetime | None = None,
) -> list[dt.datetime]:
    """Starts (UTC) of free slots in [window_start, window_end), not before `earliest` and not
    after `latest`: on the step grid of the open time, the duration inside open time, duration
    plus buffer clear of every busy interval."""
    low = max(window_start, earliest) if earliest else window_start
    merged = merge_busy(busy)
    blocked = duration + buffer
    slots: list[dt.datetime] = []
    j = 0
    for grid in availability.grids(*days_for(availability.tz, window_start, window_end + duration)):
        start = grid.start
        if start < low:  # jump to the first grid point at or after `low`
            start += step * -((grid.start - low) // step)
        while (
            start < grid.stop
            and start + duration <= grid.close
            and start < window_end
            and (latest is None or start <= latest)
        ):
            while j < len(merged) and merged[j][1] <= start:
                j += 1
            if j < len(merged) and merged[j][0] < start + blocked:
                start += step
                continue
            slots.append(start)
            start += step
    return slots


def is_on_grid(
    availability: Availability, start: dt.datetime, duration: dt.timedelta, step: dt.timedelta
) -> bool | None:
    """True when `start` is a slot start with room for `duration` in open time; False when the
    calendar works then but the start is off the step grid; None when it is not open."""
    for grid in availability.grids(*days_for(availability.tz, start, start + duration)):
        if grid.start <= start < grid.stop:
            if start + duration > grid.close:
                return None
            return (start - grid.start) % step == dt.timedelta(0)
    return None
