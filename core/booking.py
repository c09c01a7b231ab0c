"""The one path for book / confirm / reschedule / cancel / complete / no-show, whoever asks.

Every change runs in one short transaction whose first statement locks the calendar row (an
UPDATE bumping its version): writers of one calendar are serialised on SQLite and PostgreSQL
alike. Then the caller's in-transaction steps, then overlap and rule checks, the write, the
history row and the in-transaction listeners (outbox rows). After commit, the committed-change
listeners run, each isolated. On PostgreSQL an exclusion constraint backs the overlap check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core import clock, validation as check
from core.availability import rules as rule_checks
from core.availability.engine import is_on_grid
from core.availability.rules import Rules
from core.availability.slots import busy_intervals, load_availability, rules_for
from core.changes import Change
from core.customers import clean_new_customer, customer_for_contact
from core.email import ics
from core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    SlotUnavailable,
    StaleAppointment,
    ValidationCode,
    ValidationFailed,
)
from core.models import (
    ActorKind,
    Appointment,
    AppointmentEvent,
    AppointmentStatus as Status,
    Calendar,
    Customer,
    Location,
    Service,
)
from core.security.access import Actor, require_location
from core.unit_of_work import after_commit

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

Step = Callable[[], Awaitable[None]]
LIVE = (Status.SCHEDULED, Status.CONFIRMED)
CUSTOMER_ACTIONS = {"CONFIRMED": "CONFIRM", "RESCHEDULED": "RESCHEDULE", "CANCELLED": "CANCEL"}

# Which change is allowed from which status, and how a refusal words it: the one table every
# change and `customer_refusals` read. A change to the status an appointment already has
# (confirming a confirmed one) is a no-op for `confirm` and a refusal in `customer_refusals`.
TRANSITIONS: dict[str, tuple[tuple[Status, ...], str]] = {
    "CONFIRMED": ((Status.SCHEDULED,), "confirmed"),
    "RESCHEDULED": (LIVE, "rescheduled"),
    "CANCELLED": (LIVE, "cancelled"),
    "COMPLETED": (LIVE, "marked completed"),
    "NO_SHOW": (LIVE, "marked no-show"),
}


def check_transition(status: Status, action: str) -> None:
    """Raise `InvalidTransition` unless an appointment in `status` may undergo `action` (a key of
    TRANSITIONS)."""
    allowed, verb = TRANSITIONS[action]
    if status not in allowed:
        already = f"This appointment is already {verb}." if status.value == action else None
        raise InvalidTransition(status.value, verb, already)


def snapshot(appointment: Appointment) -> dict:
    """The fields of an appointment that history records, JSON-ready."""
    return {
        "status": appointment.status.value,
        "startsAt": appointment.starts_at.isoformat(),
        "endsAt": appointment.ends_at.isoformat(),
        "sequence": appointment.sequence,
        "cancellationReason": appointment.cancellation_reason,
        "cancellationNote": appointment.cancellation_note,
    }


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before[k] for k in keys if k in before}, {k: after[k] for k in keys}


def _enforce_rules(actor: Actor, override: bool) -> bool:
    if override and actor.is_customer:
        raise PermissionDenied("Only staff can override scheduling rules.")
    return not override


def _authorize(actor: Actor, location_id: int, customer_id: int | None = None) -> None:
    if actor.is_customer:
        if customer_id is not None and actor.customer_id not in (None, customer_id):
            raise NotFound("Appointment")
        return
    require_location(actor.staff, location_id)


def _contact(location: Location) -> str:
    return location.contact_phone or location.contact_email


async def _check_slot(
    location: Location,
    service: Service,
    calendar_id: int,
    start: dt.datetime,
    enforce: bool,
    exclude_id: int | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """Roster, grid and overlap checks for a new start; returns (ends_at, blocked_until)."""
    duration = dt.timedelta(minutes=service.duration_minutes)
    blocked_until = start + duration + dt.timedelta(minutes=service.buffer_after_minutes)
    if enforce:
        tz = ZoneInfo(location.timezone)
        availability = await load_availability(calendar_id, tz, start, start + duration)
        on_grid = is_on_grid(availability, start, duration, dt.timedelta(minutes=location.slot_step_minutes))
        if on_grid is None:
            raise SlotUnavailable("The calendar is not available at that time.")
        if not on_grid:
            raise ValidationFailed(
                "start",
                "That start is not on the slot grid; choose one of the available slots.",
                ValidationCode.INVALID_CHOICE,
            )
    if await busy_intervals(calendar_id, start, blocked_until, exclude_id=exclude_id):
        raise SlotUnavailable()
    return start + duration, blocked_until


async def _commit(host: PluginHost, calendar_id: int, work: Callable[[], Awaitable[Change | None]]) -> Change | None:
    """Run `work` in a transaction that first locks the calendar, then the `appointment_changing`
    hooks in it (core's queue the emails); after commit (of the unit of work it is part of, if
    any: core.unit_of_work), the `appointment_changed` hooks, each isolated."""
    try:
        async with in_transaction():
            await Calendar.filter(id=calendar_id).update(version=F("version") + 1)
            change = await work()
            if change is not None:
                await host.call("appointment_changing", change.appointment.location_id, change=change)
    except IntegrityError as error:
        if "appointment_no_overlap" in str(error) or "exclusion" in str(error).lower():
            raise SlotUnavailable() from None
        raise
    if change is not None:
        await after_commit(
            lambda: host.call("appointment_changed", change.appointment.location_id, isolated=True, change=change)
        )
    return change


async def _record(appointment: Appointment, action: str, actor: Actor, before: dict) -> None:
    old, new = _changed(before, snapshot(appointment))
    await AppointmentEvent.create(
        appointment_id=appointment.id,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.id[:64],
        ip=actor.ip[:64],
        user_agent=actor.user_agent[:500],
        before=old,
        after=new,
    )


async def book(
    host: PluginHost,
    actor: Actor,
    *,
    calendar_id: int,
    service_id: int,
    start: dt.datetime,
    customer_id: int | None = None,
    contact: dict | None = None,
    override: bool = False,
    steps: Sequence[Step] = (),
    after: Sequence[Callable[[Appointment], Awaitable[None]]] = (),
) -> Appointment:
    """Book `service` on `calendar` at `start` (aware datetime) for a customer: `customer_id`, or
    `contact` details (first_name, last_name, email, mobile_phone) of the location's customer with
    that email, created when there is none (an existing customer's details are never changed).
    `steps` run first in the transaction (e.g. claiming a link); `after` get the new appointment."""
    enforce = _enforce_rules(actor, override)
    calendar = await Calendar.get_or_none(id=calendar_id)
    if calendar is None:
        raise NotFound("Calendar", calendar_id)
    _authorize(actor, calendar.location_id, customer_id)
    location = await Location.get(id=calendar.location_id)
    service = await Service.get_or_none(id=service_id, location_id=location.id)
    if service is None or not await service.calendars.filter(id=calendar.id).exists():
        raise ValidationFailed(
            "serviceId", "This calendar does not provide that service.", ValidationCode.INVALID_CHOICE
        )
    # Customers book online services only; a one-time link offers the services staff chose for it.
    if actor.is_customer and actor.kind is not ActorKind.ONE_TIME_LINK and not service.bookable_online:
        raise ValidationFailed("serviceId", "This service cannot be booked online.", ValidationCode.INVALID_CHOICE)
    if contact is not None:
        contact = clean_new_customer(contact)
        customer = None
    else:
        customer = await Customer.get_or_none(id=customer_id, location_id=location.id)
        if customer is None:
            raise ValidationFailed("customerId", "No such customer at this location.", ValidationCode.INVALID_CHOICE)
    start = _utc(start)
    rules = await rules_for(location, service)
    appointment: Appointment | None = None

    async def work() -> Change:
        nonlocal appointment, customer
        for step in steps:
            await step()
        if customer is None:
            assert contact is not None  # no customer_id: the contact details name the customer
            customer = await _customer_by_contact(location.id, contact)
        if enforce:
            rule_checks.check_new_start(rules, start, clock.now())
        if actor.is_customer:
            details = {"calendar_id": calendar.id, "service_id": service.id, "customer_id": customer.id, "start": start}
            await host.customer_refusal(location.id, None, "BOOK", actor, details)
        ends_at, blocked_until = await _check_slot(location, service, calendar.id, start, enforce)
        appointment = await Appointment.create(
            location_id=location.id,
            calendar_id=calendar.id,
            service_id=service.id,
            customer_id=customer.id,
            starts_at=start,
            ends_at=ends_at,
            blocked_until=blocked_until,
            status=Status.CONFIRMED if actor.is_customer else Status.SCHEDULED,
        )
        await _record(appointment, "BOOKED", actor, {})
        for then in after:
            await then(appointment)
        return Change("BOOKED", appointment, {}, actor)

    await _commit(host, calendar.id, work)
    assert appointment is not None  # work() made it, or raised
    return appointment


async def _customer_by_contact(location_id: int, contact: dict) -> Customer:
    """The location's customer with this email, or a new one with these details."""
    try:
        return await customer_for_contact(location_id, contact)
    except IntegrityError:  # the same email was just added by a booking on another calendar
        raise SlotUnavailable("We could not book this just now. Please try again.") from None


async def _load(actor: Actor, appointment_id: int) -> tuple[Appointment, Location, Service]:
    appointment = await Appointment.get_or_none(id=appointment_id)
    if appointment is None:
        raise NotFound("Appointment", appointment_id)
    _authorize(actor, appointment.location_id, appointment.customer_id)
    location = await Location.get(id=appointment.location_id)
    service = await Service.get(id=appointment.service_id)
    return appointment, location, service


async def _change(
    host: PluginHost,
    actor: Actor,
    appointment_id: int,
    action: str,
    apply: Callable[[Appointment, Location, Rules, bool], Awaitable[bool]],
    override: bool = False,
    steps: Sequence[Step] = (),
    details: dict | None = None,
) -> Appointment:
    """Lock, re-read the appointment, let plugins refuse a customer's action, let `apply` check
    and change it, record and notify."""
    enforce = _enforce_rules(actor, override)
    appointment, location, service = await _load(actor, appointment_id)
    rules = await rules_for(location, service)
    result: Appointment = appointment

    async def work() -> Change | None:
        nonlocal result
        for step in steps:
            await step()
        fresh = await Appointment.get(id=appointment_id)
        before = snapshot(fresh)
        if actor.is_customer and enforce:
            facts = {
                "calendar_id": fresh.calendar_id,
                "service_id": fresh.service_id,
                "customer_id": fresh.customer_id,
                **(details or {}),
            }
            await host.customer_refusal(location.id, fresh, CUSTOMER_ACTIONS[action], actor, facts)
        if not await apply(fresh, location, rules, enforce):
            result = fresh
            return None
        if action in ics.CALENDAR_CHANGES:
            fresh.ics_sequence += 1
        await fresh.save()
        await _record(fresh, action, actor, before)
        result = fresh
        return Change(action, fresh, before, actor)

    await _commit(host, appointment.calendar_id, work)
    return result


async def confirm(host: PluginHost, actor: Actor, appointment_id: int, override: bool = False) -> Appointment:
    """SCHEDULED becomes CONFIRMED; confirming a confirmed appointment changes nothing."""

    async def apply(appointment: Appointment, location: Location, rules: Rules, enforce: bool) -> bool:
        if appointment.status is Status.CONFIRMED:
            return False
        check_transition(appointment.status, "CONFIRMED")
        if enforce:
            rule_checks.check_same_day(
                rules, appointment.starts_at, clock.now(), ZoneInfo(location.timezone), _contact(location)
            )
        appointment.status = Status.CONFIRMED
        return True

    return await _change(host, actor, appointment_id, "CONFIRMED", apply, override)


async def reschedule(
    host: PluginHost,
    actor: Actor,
    appointment_id: int,
    start: dt.datetime,
    expected_sequence: int | None = None,
    override: bool = False,
    steps: Sequence[Step] = (),
) -> Appointment:
    """Move an appointment to `start` on its calendar. A customer's move leaves it CONFIRMED,
    a staff move SCHEDULED (the customer should confirm). `expected_sequence` guards against
    a change made meanwhile."""
    start = _utc(start)

    async def apply(appointment: Appointment, location: Location, rules: Rules, enforce: bool) -> bool:
        if expected_sequence is not None and appointment.sequence != expected_sequence:
            raise StaleAppointment(appointment.sequence)
        check_transition(appointment.status, "RESCHEDULED")
        service = await Service.get(id=appointment.service_id)
        now = clock.now()
        if enforce:
            rule_checks.check_reschedule(
                rules,
                appointment.starts_at,
                now,
                ZoneInfo(location.timezone),
                _contact(location),
                appointment.customer_reschedules if actor.is_customer else None,
            )
            rule_checks.check_new_start(rules, start, now)
        ends_at, blocked_until = await _check_slot(
            location, service, appointment.calendar_id, start, enforce, appointment.id
        )
        appointment.starts_at, appointment.ends_at, appointment.blocked_until = start, ends_at, blocked_until
        appointment.sequence += 1
        appointment.status = Status.CONFIRMED if actor.is_customer else Status.SCHEDULED
        if actor.is_customer:
            appointment.customer_reschedules += 1
        return True

    return await _change(host, actor, appointment_id, "RESCHEDULED", apply, override, steps, {"start": start})


async def cancel(
    host: PluginHost,
    actor: Actor,
    appointment_id: int,
    reason: str | None = None,
    note: str = "",
    override: bool = False,
) -> Appointment:
    """Cancel a scheduled or confirmed appointment, with a reason from the location's list."""
    clean_note = check.text("note", note or "", max_length=2000, required=False, multiline=True)

    async def apply(appointment: Appointment, location: Location, rules: Rules, enforce: bool) -> bool:
        check_transition(appointment.status, "CANCELLED")
        clean_reason = (reason or "").strip()
        if clean_reason and rules.cancellation_reasons and clean_reason not in rules.cancellation_reasons:
            raise ValidationFailed(
                "reason", "Choose one of: " + ", ".join(rules.cancellation_reasons) + ".", ValidationCode.INVALID_CHOICE
            )
        if clean_reason and not rules.cancellation_reasons:
            clean_reason = check.text("reason", clean_reason, max_length=200)
        if enforce and rules.cancellation_reason_required and not clean_reason:
            raise ValidationFailed("reason", "Please choose a reason for cancelling.", ValidationCode.REQUIRED)
        if enforce:
            rule_checks.check_cancel(
                rules, appointment.starts_at, clock.now(), ZoneInfo(location.timezone), _contact(location)
            )
        appointment.status = Status.CANCELLED
        appointment.cancellation_reason, appointment.cancellation_note = clean_reason, clean_note
        return True

    return await _change(host, actor, appointment_id, "CANCELLED", apply, override)


async def mark(host: PluginHost, actor: Actor, appointment_id: int, status: Status) -> Appointment:
    """Staff mark an appointment COMPLETED or NO_SHOW once it has started."""
    if actor.is_customer or status not in (Status.COMPLETED, Status.NO_SHOW):
        raise PermissionDenied("Only staff can mark appointments completed or no-show.")
    action = TRANSITIONS[status.value][1]

    async def apply(appointment: Appointment, location: Location, rules: Rules, enforce: bool) -> bool:
        check_transition(appointment.status, status.value)
        if clock.now() < appointment.starts_at:
            raise InvalidTransition(
                appointment.status.value, action, f"An appointment cannot be {action} before it starts."
            )
        appointment.status = status
        return True

    return await _change(host, actor, appointment_id, status.value, apply)


def _utc(start: dt.datetime) -> dt.datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValidationFailed("start", "Give the start with a UTC offset.", ValidationCode.INVALID_FORMAT)
    return check.instant("start", start).astimezone(dt.UTC)


async def customer_refusals(
    appointment: Appointment, location: Location | None = None, rules: Rules | None = None
) -> dict[str, DomainError | None]:
    """What the appointment's customer could do with it now: for CONFIRM, RESCHEDULE and CANCEL,
    the refusal they would meet (None when allowed). A new start's own rules (notice, advance)
    are left to the slots offered; plugins are asked when the customer acts. Pass the location
    and rules when you have them."""
    location = location or await Location.get(id=appointment.location_id)
    if rules is None:
        rules = await rules_for(location, await Service.get(id=appointment.service_id))
    now, tz, contact = clock.now(), ZoneInfo(location.timezone), _contact(location)
    rule_check: dict[str, Callable[[], None]] = {
        "CONFIRMED": lambda: rule_checks.check_same_day(rules, appointment.starts_at, now, tz, contact),
        "RESCHEDULED": lambda: rule_checks.check_reschedule(
            rules, appointment.starts_at, now, tz, contact, appointment.customer_reschedules
        ),
        "CANCELLED": lambda: rule_checks.check_cancel(rules, appointment.starts_at, now, tz, contact),
    }

    def refusal(action: str) -> DomainError | None:
        try:
            check_transition(appointment.status, action)
            rule_check[action]()
        except DomainError as refused:
            return refused
        return None

    return {CUSTOMER_ACTIONS[action]: refusal(action) for action in rule_check}
