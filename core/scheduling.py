"""What is free: roster expansion in local wall-clock time and free slots. Pure functions, no I/O.

Time semantics: rosters are local wall-clock minutes. A wall-clock time stands for the first
instant whose local time reaches it, so a time inside a spring-forward gap moves to the first
instant that exists and an ambiguous fall-back time takes its first occurrence. Slots step in
real elapsed time from the start of each open interval. A slot needs its service's duration
inside an open interval; its buffer only needs to be free of other appointments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.models import ExceptionKind

UTC = dt.timezone.utc
DAY_MINUTES = 24 * 60
MinuteRange = tuple[int, int]
Interval = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Availability:
    """A calendar's working time: weekly roster and dated exceptions, in a timezone."""

    tz: ZoneInfo
    roster: Mapping[int, Sequence[MinuteRange]]  # weekday (0 = Monday) -> minute ranges
    extra: Mapping[dt.date, Sequence[MinuteRange]] = field(default_factory=dict)
    time_off: Mapping[dt.date, Sequence[MinuteRange]] = field(default_factory=dict)

    @classmethod
    def build(cls, tz: ZoneInfo, roster: Iterable[tuple[int, int, int]], exceptions: Iterable[tuple[dt.date, ExceptionKind, int, int]] = ()) -> "Availability":
        """From (weekday, start, end) roster rows and (date, kind, start, end) exceptions."""
        weekly: dict[int, list[MinuteRange]] = {}
        for weekday, start, end in roster:
            weekly.setdefault(weekday, []).append((start, end))
        extra: dict[dt.date, list[MinuteRange]] = {}
        time_off: dict[dt.date, list[MinuteRange]] = {}
        for day, kind, start, end in exceptions:
            (extra if kind is ExceptionKind.EXTRA_HOURS else time_off).setdefault(day, []).append((start, end))
        return cls(tz=tz, roster=weekly, extra=extra, time_off=time_off)

    def open_minutes(self, day: dt.date) -> list[MinuteRange]:
        """The open wall-clock minute ranges of a local date: roster plus extra hours minus time off."""
        ranges = union([*self.roster.get(day.weekday(), ()), *self.extra.get(day, ())])
        return subtract(ranges, union(self.time_off.get(day, ())))

    def open_intervals(self, day: dt.date) -> list[Interval]:
        """The open intervals of a local date as UTC instants (empty ones dropped)."""
        intervals = []
        for start, end in self.open_minutes(day):
            begin, finish = local_instant(self.tz, day, start), local_instant(self.tz, day, end)
            if finish > begin:
                intervals.append((begin, finish))
        return intervals


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


def local_days(tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """Every local date from the one of `start` to the one of `end`, inclusive."""
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


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
    after `latest`: on the step grid of each open interval, the duration inside it, duration
    plus buffer clear of every busy interval."""
    low = max(window_start, earliest) if earliest else window_start
    merged = merge_busy(busy)
    blocked = duration + buffer
    slots: list[dt.datetime] = []
    j = 0
    for day in local_days(availability.tz, window_start, window_end):
        for open_start, open_end in availability.open_intervals(day):
            start = open_start
            if start < low:  # jump to the first grid point at or after `low`
                start += step * -((open_start - low) // step)
            while start + duration <= open_end and start < window_end and (latest is None or start <= latest):
                while j < len(merged) and merged[j][1] <= start:
                    j += 1
                if j < len(merged) and merged[j][0] < start + blocked:
                    start += step
                    continue
                slots.append(start)
                start += step
    return slots


def is_on_grid(availability: Availability, start: dt.datetime, duration: dt.timedelta, step: dt.timedelta) -> bool | None:
    """True when `start` is a slot start of an open interval with room for `duration`; False
    when the calendar works then but the start is off the step grid; None when it is not open."""
    day = start.astimezone(availability.tz).date()
    open_at_all = False
    for candidate_day in (day - dt.timedelta(days=1), day):
        for open_start, open_end in availability.open_intervals(candidate_day):
            if open_start <= start and start + duration <= open_end:
                open_at_all = True
                if (start - open_start) % step == dt.timedelta(0):
                    return True
    return False if open_at_all else None
