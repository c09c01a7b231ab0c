"""Free slots of several services on several calendars of one location in one request: every
pair where the calendar provides the service, priced together before any slot is computed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.availability.budget import Charge
from core.availability.cost import estimate
from core.availability.slots import Slot, rules_for, slot_window, slots_of_services
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.locations import get_location
from core.models import Calendar, Location, Service
from core.security.access import Staff

MAX_SERVICES = 20
MAX_CALENDARS = 50


@dataclass(frozen=True)
class Entry:
    """The free slots of one service on one calendar that provides it."""

    calendar: Calendar
    service: Service
    slots: list[Slot]


def _distinct(field: str, ids: Sequence[int], most: int, kind: str) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if not 1 <= len(unique) <= most:
        raise ValidationFailed(field, f"Ask for 1 to {most} {kind}.", ValidationCode.OUT_OF_RANGE)
    return unique


async def availability(
    actor: Staff | None,
    location_id: int,
    service_ids: Sequence[int],
    calendar_ids: Sequence[int] | None,
    charge: Charge,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
) -> tuple[Location, list[Entry]]:
    """The free slots of each service on each calendar of the location that provides it (only
    those of `calendar_ids` when given), by calendar then service, starting in [start, end) or on
    the local dates from_date..to_date; `NotFound` for a service or calendar not at the location."""
    services_asked = _distinct("serviceIds", service_ids, MAX_SERVICES, "services")
    calendars_asked = (
        None if calendar_ids is None else _distinct("calendarIds", calendar_ids, MAX_CALENDARS, "calendars")
    )
    location = await get_location(actor, location_id)
    start, end = slot_window(location, start, end, from_date, to_date)
    services = {s.id: s for s in await Service.filter(id__in=services_asked, location_id=location.id)}
    for service_id in services_asked:
        if service_id not in services:
            raise NotFound("Service", service_id)
    provided = {(c, s) for s, c in await Service.filter(id__in=services_asked).values_list("id", "calendars__id") if c}
    wanted = calendars_asked if calendars_asked is not None else sorted({c for c, _ in provided})
    calendars = {c.id: c for c in await Calendar.filter(id__in=wanted, location_id=location.id)}
    for calendar_id in calendars_asked or ():
        if calendar_id not in calendars:
            raise NotFound("Calendar", calendar_id)
    pairs = [(calendars[c], services[s]) for c in sorted(calendars) for s in services_asked if (c, s) in provided]
    await charge(await estimate(location, [calendar.id for calendar, _ in pairs], start, end))
    rules = {s: await rules_for(location, services[s]) for s in services_asked}
    entries = []
    for calendar_id in sorted(calendars):
        offered = [service for calendar, service in pairs if calendar.id == calendar_id]
        if offered:
            found = await slots_of_services(
                location, calendars[calendar_id], offered, start, end, [rules[s.id] for s in offered]
            )
            entries += [Entry(calendars[calendar_id], service, slots) for service, slots in zip(offered, found)]
    return location, entries
