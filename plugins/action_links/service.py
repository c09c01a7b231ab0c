"""What a customer can see and do through an action link, shared by the page and GraphQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import booking, clock
from core.agendum import Agendum
from core.appointment_loads import changes_by
from core.availability.cost import estimate
from core.availability.rules import Rules
from core.availability.slots import Slot, rules_for, slots_for
from core.errors import DomainError
from core.models import ActorKind, Appointment, AppointmentEvent, Calendar, Service
from core.security.access import Actor
from core.security.ratelimit import count_link_attempt
from plugins.action_links.links import NAME, Opened, expires_at, open_link, origin_of

ACTIONS = ("CONFIRM", "RESCHEDULE", "CANCEL")
RESCHEDULE_DAYS = 14  # the free slots offered to move to: this many days at a time


@dataclass
class View:
    """The appointment as its customer sees it through the link, and what they may do."""

    opened: Opened
    service: Service
    calendar: Calendar
    refusals: dict[str, DomainError | None]
    reasons: tuple[str, ...]
    reason_required: bool
    policy: str
    history: list[AppointmentEvent]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.opened.location.timezone)

    def can(self, action: str) -> bool:
        """True when the rules allow the action now."""
        return self.refusals[action] is None

    def refusal(self, action: str) -> str | None:
        """Why the action is refused, in words, or None."""
        problem = self.refusals[action]
        return problem.message if problem else None


async def resolve(app: Agendum, token: str, client_ip: str, limiter) -> Opened:
    """Count the attempt (per client and per token, whatever the outcome), then resolve the
    token (see links.open_link)."""
    await count_link_attempt(limiter, app.settings, "action-link", token, client_ip)
    return await open_link(app, token)


def actor(opened: Opened, ip: str, user_agent: str) -> Actor:
    """The customer acting through this link."""
    return Actor(
        ActorKind.CUSTOMER_LINK,
        id=f"action-link:{opened.link.id}",
        customer_id=opened.appointment.customer_id,
        ip=ip,
        user_agent=user_agent,
    )


async def view(opened: Opened) -> View:
    """Everything the page shows: details, allowed actions with reasons, link history."""
    appointment, service, calendar = opened.appointment, opened.service, opened.calendar
    rules = await rules_for(opened.location, service)
    history = await changes_by(appointment.id, ActorKind.CUSTOMER_LINK)
    return View(
        opened=opened,
        service=service,
        calendar=calendar,
        refusals=await booking.customer_refusals(appointment, opened.location, rules),
        reasons=rules.cancellation_reasons,
        reason_required=rules.cancellation_reason_required,
        policy=rules.cancellation_policy,
        history=history,
    )


async def reschedule_cost(opened: Opened, start: dt.datetime | None = None, end: dt.datetime | None = None) -> int:
    """What `reschedule_slots` over the same window costs (core.availability.cost); without `end`, the
    RESCHEDULE_DAYS days it looks at, whichever day they start."""
    now = clock.now()
    begin = max(start or now, now) if end else now
    return await estimate(
        opened.location, [opened.calendar.id], begin, end or begin + dt.timedelta(days=RESCHEDULE_DAYS)
    )


async def reschedule_slots(
    opened: Opened, start: dt.datetime | None = None, end: dt.datetime | None = None, rules: Rules | None = None
) -> list[Slot]:
    """Free slots of the same calendar and service from `start` (default now) to `end` (default
    RESCHEDULE_DAYS later), the appointment's own time excluded; none from a start beyond the
    days that can be booked (the rules' maximum advance), however far."""
    appointment = opened.appointment
    rules = rules or await rules_for(opened.location, opened.service)
    now = clock.now()
    begin = max(start or now, now)
    if begin > now + dt.timedelta(days=rules.max_advance_days):
        return []
    slots = await slots_for(
        opened.location,
        opened.calendar,
        opened.service,
        begin,
        end or begin + dt.timedelta(days=RESCHEDULE_DAYS),
        rules,
    )
    return [s for s in slots if s.start != appointment.starts_at]


async def confirm(opened: Opened, ip: str, user_agent: str) -> Appointment:
    """Confirm through the link."""
    return await booking.confirm(opened.app.plugins, actor(opened, ip, user_agent), opened.appointment.id)


async def reschedule(
    opened: Opened, start: dt.datetime, expected_sequence: int | None, ip: str, user_agent: str
) -> Appointment:
    """Move the appointment through the link (the same appointment; its link keeps working)."""
    return await booking.reschedule(
        opened.app.plugins, actor(opened, ip, user_agent), opened.appointment.id, start, expected_sequence
    )


async def cancel(opened: Opened, reason: str | None, note: str, ip: str, user_agent: str) -> Appointment:
    """Cancel through the link, under the location's cancellation rules."""
    return await booking.cancel(opened.app.plugins, actor(opened, ip, user_agent), opened.appointment.id, reason, note)


async def customer_links(opened: Opened) -> list:
    """Links other enabled plugins offer this customer for the appointment (not this plugin's own),
    bounded by this link's expiry."""
    others = [row for row in opened.activations if row.plugin != NAME]
    found = await opened.app.plugins.links(
        [opened.appointment],
        "customer",
        others,
        expires_at(opened.appointment, opened.settings),
        origin_of(opened.link),
    )
    return found[opened.appointment.id]
