"""Services: what can be booked, for how long and at what price, on which calendars."""

from __future__ import annotations

from typing import Any

from tortoise.transactions import in_transaction

from core import validation as check
from core.availability.rules import clean_rule_fields
from core.errors import ValidationCode
from core.locations import get_location
from core.models import Calendar, Service
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, in_scope

MAX_MINUTES = 24 * 60


def _clean(changes: dict[str, Any], required: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    cleaners = {
        "name": lambda v: check.text("name", v, max_length=200),
        "duration_minutes": lambda v: check.minutes("durationMinutes", v, minimum=1, maximum=MAX_MINUTES),
        "price": lambda v: check.money("price", v),
        "buffer_after_minutes": lambda v: check.minutes("bufferAfterMinutes", v, maximum=MAX_MINUTES),
        "bookable_online": bool,
    }
    return check.clean_all(cleaners, {key: value for key, value in changes.items() if key != "calendar_ids"}, required)


async def _calendars(location_id: int, calendar_ids: list[int]) -> list[Calendar]:
    wanted = set(calendar_ids)
    calendars = await Calendar.filter(id__in=list(wanted), location_id=location_id)
    known = {c.id for c in calendars}
    problems = check.Problems()
    for index, calendar_id in enumerate(calendar_ids):
        if calendar_id not in known:
            problems.add(
                f"calendarIds[{index}]",
                f"Calendar {calendar_id} is not a calendar of this location.",
                ValidationCode.INVALID_CHOICE,
            )
    problems.raise_any()
    return calendars


async def get_service(actor: Staff | None, service_id: int) -> Service:
    """One service in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, Service, service_id, "Service")


async def service_page(actor: Staff | None, location_id: int, paging: Paging) -> Page[Service]:
    """A page of the services of a location in scope, by name."""
    await get_location(actor, location_id)
    return await keyset_page(Service.filter(location_id=location_id), ("name", "id"), paging)


async def create_service(actor: Staff | None, location_id: int, **values: Any) -> Service:
    """Create a service; `name` and `duration_minutes` are required."""
    await get_location(actor, location_id)
    fields = _clean(values, (("name", "name"), ("duration_minutes", "durationMinutes")))
    calendars = await _calendars(location_id, values.get("calendar_ids") or [])
    async with in_transaction():
        service = await Service.create(location_id=location_id, **fields)
        if calendars:
            await service.calendars.add(*calendars)
    return service


async def update_service(actor: Staff | None, service_id: int, **changes: Any) -> Service:
    """Change the given fields of a service; `calendar_ids` replaces the calendars providing it."""
    service = await get_service(actor, service_id)
    fields = _clean(changes)
    calendars = None
    if changes.get("calendar_ids") is not None:
        calendars = await _calendars(service.location_id, changes["calendar_ids"])
    async with in_transaction():
        service.update_from_dict(fields)
        await service.save()
        if calendars is not None:
            await service.calendars.clear()
            if calendars:
                await service.calendars.add(*calendars)
    return service


async def update_service_rules(actor: Staff | None, service_id: int, **changes: Any) -> Service:
    """Override some of the location's rules for this service; None removes an override (the
    location's rule applies again)."""
    service = await get_service(actor, service_id)
    overrides = dict(service.rule_overrides or {})
    removals = {key for key, value in changes.items() if value is None}
    for key in removals:
        overrides.pop(key, None)
    overrides.update(clean_rule_fields({k: v for k, v in changes.items() if k not in removals}))
    service.rule_overrides = overrides
    await service.save()
    return service
