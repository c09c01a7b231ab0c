"""Calendars (staff diaries): owner contact, weekly roster and dated exceptions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from core import validation as check
from core.availability.engine import DAY_MINUTES, roster_minutes
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.locations import get_location
from core.models import Calendar, CalendarException, ExceptionKind, RosterRule
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, in_scope, require_staff

WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")


@dataclass(frozen=True)
class Interval:
    """A roster interval on a weekday (0 = Monday), in `HH:MM` local wall-clock time; an end not
    after the start is on the next day."""

    weekday: int
    start: str
    end: str


def _clean(changes: dict[str, Any], required: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    cleaners = {
        "name": lambda v: check.text("name", v, max_length=200),
        "owner_name": lambda v: check.text("ownerName", v, max_length=200, required=False),
        "owner_email": lambda v: check.email("ownerEmail", v, required=False),
        "owner_phone": lambda v: check.phone("ownerPhone", v),
    }
    return check.clean_all(cleaners, changes, required)


async def get_calendar(actor: Staff | None, calendar_id: int) -> Calendar:
    """One calendar in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, Calendar, calendar_id, "Calendar")


async def calendar_page(actor: Staff | None, location_id: int, paging: Paging) -> Page[Calendar]:
    """A page of the calendars of a location in scope, by name."""
    await get_location(actor, location_id)
    return await keyset_page(Calendar.filter(location_id=location_id), ("name", "id"), paging)


async def create_calendar(actor: Staff | None, location_id: int, **values: Any) -> Calendar:
    """Create a calendar at a location; `name` is required."""
    await get_location(actor, location_id)
    return await Calendar.create(location_id=location_id, **_clean(values, (("name", "name"),)))


async def update_calendar(actor: Staff | None, calendar_id: int, **changes: Any) -> Calendar:
    """Change the given fields of a calendar."""
    calendar = await get_calendar(actor, calendar_id)
    calendar.update_from_dict(_clean(changes))
    await calendar.save()
    return calendar


def _clean_roster(intervals: list[Interval]) -> list[tuple[int, int, int]]:
    """Each interval checked (every problem at once, by `rules[i].field`), then overlaps."""
    rows, problems = [], check.Problems()
    for i, interval in enumerate(intervals):
        field = f"rules[{i}]"
        found = len(problems.found)
        if not 0 <= interval.weekday <= 6:
            problems.add(f"{field}.weekday", "Weekday must be Monday to Sunday.", ValidationCode.OUT_OF_RANGE)
        start = end = 0
        with problems.checking():
            start = check.clock_time(f"{field}.start", interval.start)
        with problems.checking():
            end = check.clock_time(f"{field}.end", interval.end)
        if start == DAY_MINUTES:
            problems.add(f"{field}.start", "An interval starts between 00:00 and 23:59.", ValidationCode.OUT_OF_RANGE)
        if len(problems.found) == found:
            rows.append((interval.weekday, start, end, i))
    problems.raise_any()
    rows.sort()
    for (day_a, start_a, end_a, _), (day_b, start_b, _, index_b) in zip(rows, rows[1:]):
        if day_a == day_b and start_b < roster_minutes(start_a, end_a)[1]:
            problems.add(
                f"rules[{index_b}]", f"Overlaps another interval on {WEEKDAYS[day_b].title()}.", ValidationCode.INVALID
            )
    problems.raise_any()
    return [(day, start, end) for day, start, end, _ in rows]


async def set_roster(actor: Staff | None, calendar_id: int, intervals: list[Interval]) -> Calendar:
    """Replace the calendar's weekly roster with these intervals (validated; intervals starting
    on one weekday must not overlap, those of neighbouring weekdays may and merge)."""
    calendar = await get_calendar(actor, calendar_id)
    rows = _clean_roster(intervals)
    async with in_transaction():
        await RosterRule.filter(calendar_id=calendar.id).delete()
        await RosterRule.bulk_create(
            [RosterRule(calendar_id=calendar.id, weekday=d, start_minute=s, end_minute=e) for d, s, e in rows]
        )
    return calendar


async def add_exception(
    actor: Staff | None,
    calendar_id: int,
    *,
    date: dt.date,
    kind: ExceptionKind,
    start: str | None = None,
    end: str | None = None,
    note: str = "",
) -> CalendarException:
    """Add time off or extra hours on a local date; without times it covers the whole day."""
    calendar = await get_calendar(actor, calendar_id)
    if (start is None) != (end is None):
        raise ValidationFailed(
            "end" if end is None else "start", "Give both a start and an end, or neither.", ValidationCode.REQUIRED
        )
    if start is None or end is None:  # both None
        if kind is ExceptionKind.EXTRA_HOURS:
            raise ValidationFailed("start", "Extra hours need a start and an end.", ValidationCode.REQUIRED)
        start_minute, end_minute = 0, 24 * 60
    else:
        start_minute, end_minute = check.clock_time("start", start), check.clock_time("end", end)
        if end_minute <= start_minute:
            raise ValidationFailed("end", "An exception must end after it starts.", ValidationCode.OUT_OF_RANGE)
    return await CalendarException.create(
        calendar_id=calendar.id,
        date=date,
        kind=kind,
        start_minute=start_minute,
        end_minute=end_minute,
        note=check.text("note", note, max_length=500, required=False, multiline=True),
    )


async def remove_exception(actor: Staff | None, exception_id: int) -> Calendar:
    """Remove a dated exception; returns its calendar."""
    require_staff(actor)
    exception = await CalendarException.get_or_none(id=exception_id)
    if exception is None:
        raise NotFound("CalendarException", exception_id)
    calendar = await get_calendar(actor, exception.calendar_id)
    await exception.delete()
    return calendar
