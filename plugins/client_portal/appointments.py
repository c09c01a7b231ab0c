"""What a signed-in customer does with appointments in the portal: list their own, see the
services and free times, book (a calendar or "any"), cancel under the location's policy.
Other customers' bookings never show, except as time that is not free."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import booking, clock, validation as check
from core.availability.budget import Charge
from core.availability.cost import estimate
from core.availability.rules import Rules
from core.availability.slots import check_window, rules_for, slots_for
from core.errors import NotFound, RuleViolation, SlotUnavailable, ValidationCode, ValidationFailed
from core.locations import settings_source
from core.models import ActorKind, Appointment, AppointmentEvent, AppointmentStatus, Calendar, Service
from core.security.access import Actor
from plugins.client_portal.addresses import Portal
from plugins.client_portal.sessions import SignedIn
from plugins.client_portal.settings import NAME
from plugins.client_portal.visitor import Visitor

LIVE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)


@dataclass(frozen=True)
class Offer:
    """A service the portal offers, with the calendars that provide it."""

    service: Service
    calendars: list[Calendar]


@dataclass(frozen=True)
class FreeSlot:
    """A free start of a service and the calendars free then."""

    start: dt.datetime
    end: dt.datetime
    calendar_ids: tuple[int, ...]


def actor(signed: SignedIn, visitor: Visitor) -> Actor:
    """The customer acting through the portal (the portal sends its own staff notices)."""
    who = f"portal-account:{signed.account.id}" if signed.account else f"portal-session:{signed.row.id}"
    return Actor(
        ActorKind.PORTAL,
        id=who,
        customer_id=signed.customer.id,
        ip=visitor.ip,
        user_agent=visitor.user_agent,
        core_staff_notices=False,
    )


async def own_appointments(signed: SignedIn, upcoming: bool) -> list[Appointment]:
    """The customer's appointments at the location: upcoming (soonest first) or past (latest first)."""
    query = Appointment.filter(customer_id=signed.customer.id, location_id=signed.portal.location.id)
    now = clock.now()
    if upcoming:
        return list(await query.filter(ends_at__gt=now).order_by("starts_at", "id").limit(200))
    return list(await query.filter(ends_at__lte=now).order_by("-starts_at", "-id").limit(200))


async def own_appointment(signed: SignedIn, appointment_id: int) -> Appointment:
    """One of the customer's own appointments; `NotFound` for anyone else's (or none)."""
    row = await Appointment.get_or_none(
        id=appointment_id, customer_id=signed.customer.id, location_id=signed.portal.location.id
    )
    if row is None:
        raise NotFound("Appointment", appointment_id)
    return row


async def policy(portal: Portal) -> Rules:
    """The location's own rules: notice, cancellation policy text and reasons."""
    return Rules.of(await settings_source(portal.location))


async def offers(portal: Portal) -> list[Offer]:
    """The services bookable online at the location that some calendar provides, by name."""
    services = (
        await Service.filter(location_id=portal.location.id, bookable_online=True)
        .order_by("name", "id")
        .prefetch_related("calendars")
    )
    found = []
    for service in services:
        calendars = sorted(
            (c for c in service.calendars if c.location_id == portal.location.id), key=lambda c: (c.name, c.id)
        )
        if calendars:
            found.append(Offer(service, calendars))
    return found


async def offer(portal: Portal, service_id: int) -> Offer:
    """One offered service; `ValidationFailed` when the portal does not offer it."""
    for found in await offers(portal):
        if found.service.id == service_id:
            return found
    raise ValidationFailed("serviceId", "Choose one of the services offered here.", ValidationCode.INVALID_CHOICE)


def _calendars(chosen: Offer, calendar_id: int | None) -> list[Calendar]:
    if calendar_id is None:
        return chosen.calendars
    for calendar in chosen.calendars:
        if calendar.id == calendar_id:
            return [calendar]
    raise ValidationFailed(
        "calendarId", "Choose one of the calendars offering this service, or any.", ValidationCode.INVALID_CHOICE
    )


async def free_slots(
    portal: Portal, service_id: int, calendar_id: int | None, start: dt.datetime, end: dt.datetime, charge: Charge
) -> list[FreeSlot]:
    """Free starts of a service in [start, end) on one calendar, or on any (each start once, with
    the calendars free then); their cost is charged before any is computed."""
    check_window(start, end)
    chosen = await offer(portal, service_id)
    calendars = _calendars(chosen, calendar_id)
    await charge(await estimate(portal.location, [c.id for c in calendars], start, end))
    return await _free(portal, chosen, calendars, start, end)


async def _free(
    portal: Portal, chosen: Offer, calendars: list[Calendar], start: dt.datetime, end: dt.datetime
) -> list[FreeSlot]:
    rules = await rules_for(portal.location, chosen.service)
    free: dict[dt.datetime, tuple[dt.datetime, list[int]]] = {}
    for calendar in calendars:
        for slot in await slots_for(portal.location, calendar, chosen.service, start, end, rules):
            free.setdefault(slot.start, (slot.end, []))[1].append(calendar.id)
    return [FreeSlot(s, end_, tuple(ids)) for s, (end_, ids) in sorted(free.items())]


async def _least_busy_first(portal: Portal, calendar_ids: list[int], start: dt.datetime) -> list[int]:
    """Calendars ordered by how many live appointments they have on the day of `start` (local)."""
    tz = ZoneInfo(portal.location.timezone)
    day = start.astimezone(tz).date()
    begin = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    counts = {cid: 0 for cid in calendar_ids}
    for cid in await Appointment.filter(
        calendar_id__in=calendar_ids,
        starts_at__gte=begin,
        starts_at__lt=begin + dt.timedelta(days=1),
        status__in=LIVE,
    ).values_list("calendar_id", flat=True):
        counts[cid] += 1
    return sorted(calendar_ids, key=lambda cid: (counts[cid], cid))


def _refuse_unless(allowed: bool, rule: str, what: str, portal: Portal) -> None:
    if not allowed:
        raise RuleViolation(
            rule,
            f"{what} is not available in the client portal. Please contact {portal.location.name}{portal.contact}.",
        )


async def book(
    signed: SignedIn, service_id: int, calendar_id: int | None, start: dt.datetime, accept_terms: bool, visitor: Visitor
) -> Appointment:
    """Book for the signed-in customer; with no calendar, the free one with the fewest
    appointments that day. Accepting the terms (when the location has them) is recorded in the
    appointment's history."""
    portal = signed.portal
    _refuse_unless(portal.settings.allow_booking, "PORTAL_BOOKING_OFF", "Booking", portal)
    terms = portal.settings.terms_and_conditions
    if terms and not accept_terms:
        raise ValidationFailed(
            "acceptTerms", "Please read and accept the terms and conditions to book.", ValidationCode.REQUIRED
        )
    check.instant("start", start)
    chosen = await offer(portal, service_id)
    candidates = [c.id for c in _calendars(chosen, calendar_id)]
    if calendar_id is None:
        window = await _free(portal, chosen, chosen.calendars, start, start + dt.timedelta(minutes=1))
        free_ids = [cid for slot in window if slot.start == start for cid in slot.calendar_ids]
        if not free_ids:
            raise SlotUnavailable()
        candidates = await _least_busy_first(portal, free_ids, start)
    acting = actor(signed, visitor)

    async def record_terms(appointment: Appointment) -> None:
        if terms:
            await AppointmentEvent.create(
                appointment_id=appointment.id,
                action="TERMS_ACCEPTED",
                actor_kind=ActorKind.PORTAL,
                actor_id=acting.id[:64],
                ip=visitor.ip[:64],
                user_agent=visitor.user_agent[:500],
                before={},
                after={"termsAndConditions": terms},
            )

    for candidate in candidates[:-1]:
        try:
            return await booking.book(
                portal.app.plugins,
                acting,
                calendar_id=candidate,
                service_id=chosen.service.id,
                start=start,
                customer_id=signed.customer.id,
                after=[record_terms],
            )
        except SlotUnavailable:
            continue  # taken meanwhile: the next least busy calendar
    return await booking.book(
        portal.app.plugins,
        acting,
        calendar_id=candidates[-1],
        service_id=chosen.service.id,
        start=start,
        customer_id=signed.customer.id,
        after=[record_terms],
    )


async def cancel(signed: SignedIn, appointment_id: int, reason: str | None, note: str, visitor: Visitor) -> Appointment:
    """Cancel one of the customer's own appointments under the location's cancellation rules."""
    portal = signed.portal
    _refuse_unless(portal.settings.allow_cancelling, "PORTAL_CANCELLING_OFF", "Cancelling", portal)
    row = await own_appointment(signed, appointment_id)
    return await booking.cancel(portal.app.plugins, actor(signed, visitor), row.id, reason, note or "")


@dataclass(frozen=True)
class OwnAppointment:
    """One of the customer's appointments as the portal shows it: its service and calendar, why
    it cannot be cancelled here now (None when it can), and the links other plugins offer."""

    row: Appointment
    service: Service
    calendar: Calendar
    cancel_refusal: str | None
    links: list


async def describe(signed: SignedIn, rows: list[Appointment]) -> list[OwnAppointment]:
    """The customer's appointments with what the portal shows of each: services, calendars and the
    rules in one query each; links only for appointments still ahead and live."""
    portal = signed.portal
    services = {s.id: s for s in await Service.filter(id__in={r.service_id for r in rows})}
    calendars = {c.id: c for c in await Calendar.filter(id__in={r.calendar_id for r in rows})}
    source, now = await settings_source(portal.location), clock.now()
    live = [row for row in rows if row.status in LIVE and row.ends_at > now]
    others = [activation for activation in portal.activations if activation.plugin != NAME]
    links = await portal.app.plugins.links(live, "customer", others) if live else {}
    described = []
    for row in rows:
        service = services[row.service_id]
        refusal = "Cancelling is not available in the client portal." if not portal.settings.allow_cancelling else None
        if refusal is None:
            problem = (await booking.customer_refusals(row, portal.location, Rules.of(source, service.rule_overrides)))[
                "CANCEL"
            ]
            refusal = problem.message if problem else None
        described.append(OwnAppointment(row, service, calendars[row.calendar_id], refusal, links.get(row.id, [])))
    return described
