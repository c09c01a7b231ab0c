"""Free slots of a calendar for a service: loads what the engine needs, with one indexed range
query for the appointments in the window (never the calendar's whole history)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import clock, local_days, sql, validation as check
from core.availability.engine import Availability, Interval, days_for, free_slots
from core.availability.rules import Rules
from core.errors import ValidationCode, ValidationFailed
from core.locations import settings_source
from core.models import Calendar, CalendarException, Location, RosterRule, Service

MAX_WINDOW = dt.timedelta(days=62)
# Longest an appointment can block its calendar: service duration plus buffer, each at most a day.
MAX_SPAN = dt.timedelta(days=2)


@dataclass(frozen=True)
class Slot:
    """A free start and the end of the service booked there (UTC)."""

    start: dt.datetime
    end: dt.datetime


async def rules_for(location: Location, service: Service) -> Rules:
    """The rules binding changes of this service at this location."""
    return Rules.of(await settings_source(location), service.rule_overrides)


async def load_availability(calendar_id: int, tz: ZoneInfo, start: dt.datetime, end: dt.datetime) -> Availability:
    """A calendar's roster and the exceptions of the local dates that decide its slots between
    two instants (`days_for`)."""
    first_day, last_day = days_for(tz, start, end)
    roster = await RosterRule.filter(calendar_id=calendar_id).values_list("weekday", "start_minute", "end_minute")
    exceptions = await CalendarException.filter(
        calendar_id=calendar_id, date__gte=first_day, date__lte=last_day
    ).values_list("date", "kind", "start_minute", "end_minute")
    return Availability.build(tz, roster, exceptions)


_BUSY_SQL = (
    'SELECT starts_at, blocked_until FROM "appointment" WHERE calendar_id = {0} AND starts_at >= {1}'
    " AND starts_at < {2} AND blocked_until > {3} AND status <> 'CANCELLED' AND id <> {4}"
)


async def busy_intervals(
    calendar_id: int, start: dt.datetime, end: dt.datetime, exclude_id: int | None = None
) -> list[Interval]:
    """Time blocked by live appointments (buffers included) that may touch [start, end): one range
    scan of the (calendar_id, starts_at) index, bounded by the longest an appointment can last."""
    found = await sql.rows(_BUSY_SQL, [calendar_id, start - MAX_SPAN, end, start, exclude_id or 0])
    return [(sql.instant(r["starts_at"]), sql.instant(r["blocked_until"])) for r in found]


def check_window(start: dt.datetime, end: dt.datetime) -> None:
    """Refuse a window that ends before it starts, is longer than 62 days, or lies outside the
    years diaries use."""
    check.instant("from", start)
    check.instant("to", end)
    if end <= start:
        raise ValidationFailed("to", "`to` must be after `from`.", ValidationCode.OUT_OF_RANGE)
    if end - start > MAX_WINDOW:
        raise ValidationFailed("to", "Ask for at most 62 days at a time.", ValidationCode.OUT_OF_RANGE)


def slot_window(
    location: Location,
    start: dt.datetime | None,
    end: dt.datetime | None,
    from_date: dt.date | None,
    to_date: dt.date | None,
) -> tuple[dt.datetime, dt.datetime]:
    """The window of a slot search, asked for with instants or with the location's local dates
    (core.local_days), both ends required and checked (`check_window`), errors named after what
    was given (`fromDate`/`toDate` for dates)."""
    start, end = local_days.window(ZoneInfo(location.timezone), start, end, from_date, to_date)
    with local_days.as_dates(from_date, to_date):
        if start is None or end is None:
            raise ValidationFailed(
                "from" if start is None else "to",
                "Give `from` and `to`, or `fromDate` and `toDate`.",
                ValidationCode.REQUIRED,
            )
        check_window(start, end)
    return start, end


async def slots_for(
    location: Location,
    calendar: Calendar,
    service: Service,
    start: dt.datetime,
    end: dt.datetime,
    rules: Rules | None = None,
) -> list[Slot]:
    """Free slots of `service` on `calendar` starting in [start, end), within the rules'
    minimum notice and maximum advance."""
    [slots] = await slots_of_services(
        location, calendar, [service], start, end, [rules or await rules_for(location, service)]
    )
    return slots


async def slots_of_services(
    location: Location,
    calendar: Calendar,
    services: Sequence[Service],
    start: dt.datetime,
    end: dt.datetime,
    rules: Sequence[Rules],
) -> list[list[Slot]]:
    """Free slots of each of `services` (with its `rules`) on `calendar` starting in [start, end):
    the calendar's roster, exceptions and appointments are loaded once for all of them."""
    check_window(start, end)
    tz = ZoneInfo(location.timezone)
    now = clock.now()
    durations = [dt.timedelta(minutes=service.duration_minutes) for service in services]
    reach = max(
        (d + dt.timedelta(minutes=s.buffer_after_minutes) for d, s in zip(durations, services)), default=dt.timedelta(0)
    )
    availability = await load_availability(calendar.id, tz, start, end + reach)
    busy = await busy_intervals(calendar.id, start, end + reach)
    step = dt.timedelta(minutes=location.slot_step_minutes)
    found = []
    for service, duration, service_rules in zip(services, durations, rules):
        starts = free_slots(
            availability,
            busy,
            duration=duration,
            buffer=dt.timedelta(minutes=service.buffer_after_minutes),
            step=step,
            window_start=start,
            window_end=end,
            earliest=now + dt.timedelta(minutes=service_rules.min_notice_minutes),
            latest=now + dt.timedelta(days=service_rules.max_advance_days),
        )
        found.append([Slot(s, s + duration) for s in starts])
    return found
