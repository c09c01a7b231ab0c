"""Reading appointments and free slots within the caller's scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from zoneinfo import ZoneInfo

from core import local_days, validation as check
from core.availability.budget import Charge
from core.availability.cost import estimate
from core.availability.slots import Slot, check_window, slot_window, slots_for
from core.calendars import get_calendar
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.instants import utc
from core.locations import get_location
from core.models import Appointment, AppointmentStatus, Location, Service
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, in_scope


async def get_appointment(actor: Staff | None, appointment_id: int) -> Appointment:
    """One appointment in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, Appointment, appointment_id, "Appointment")


async def appointment_page(
    actor: Staff | None,
    location_id: int,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    statuses: Collection[AppointmentStatus] | None = None,
    calendar_id: int | None = None,
    customer_id: int | None = None,
    paging: Paging = Paging(),
) -> Page[Appointment]:
    """A page of a location's appointments by start, optionally starting in [start, end) or on
    the local dates from_date..to_date (inclusive, in the location's zone), and filtered by
    statuses, calendar or customer."""
    location = await get_location(actor, location_id)
    start, end = local_days.window(ZoneInfo(location.timezone), start, end, from_date, to_date)
    with local_days.as_dates(from_date, to_date):
        for field, value in (("from", start), ("to", end)):
            if value is not None:
                check.instant(field, value)
        if start and end and end <= start:
            raise ValidationFailed("to", "`to` must be after `from`.", ValidationCode.OUT_OF_RANGE)
    query = Appointment.filter(location_id=location_id)
    if start:
        query = query.filter(starts_at__gte=start)
    if end:
        query = query.filter(starts_at__lt=end)
    if statuses is not None:
        query = query.filter(status__in=list(statuses))
    if calendar_id:
        query = query.filter(calendar_id=calendar_id)
    if customer_id:
        query = query.filter(customer_id=customer_id)
    return await keyset_page(query, ("starts_at", "id"), paging, decoders={"starts_at": _cursor_instant})


def _cursor_instant(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))  # ValueError when naive, OverflowError past year 9999


async def available_slots(
    actor: Staff | None,
    calendar_id: int,
    service_id: int,
    charge: Charge,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
) -> tuple[Location, list[Slot]]:
    """Free slots of a service on a calendar in scope starting in [start, end) or on the local
    dates from_date..to_date (inclusive, in the location's zone), with the location (for its
    timezone); their cost is charged before any is computed."""
    if start is not None and end is not None:
        check_window(start, end)
    calendar = await get_calendar(actor, calendar_id)
    service = await Service.get_or_none(id=service_id, location_id=calendar.location_id)
    if service is None:
        raise NotFound("Service", service_id)
    if not await service.calendars.filter(id=calendar.id).exists():
        raise ValidationFailed(
            "serviceId", "This calendar does not provide that service.", ValidationCode.INVALID_CHOICE
        )
    location = await Location.get(id=calendar.location_id)
    start, end = slot_window(location, start, end, from_date, to_date)
    await charge(await estimate(location, [calendar.id], start, end))
    return location, await slots_for(location, calendar, service, start, end)
