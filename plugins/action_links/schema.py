"""GraphQL of action links: the customer's view and actions by token, and staff's revoke."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from core.appointments import get_appointment
from core.errors import NotFound as Missing
from core.models import Appointment, AppointmentStatus
from plugins.action_links import service
from plugins.action_links.emails import SEND_LIMIT, SENT_EVENT, send_link
from plugins.action_links.links import NAME, Opened, open_link, revoke
from schema.appointments import (
    AppointmentStatus as AppointmentStatusType,
    InvalidTransition,
    RuleViolation,
    Slot,
    SlotUnavailable,
    StaleAppointment,
)
from schema.context import Info
from schema.email import EmailDelivery
from schema.errors import NotFound, PermissionDenied, QueryTooCostly, RateLimited, ValidationError, as_result
from schema.inputs import parse_id
from schema.limits import selections, slot_field
from schema.plugins import LinkUnavailable, PluginDisabled, gated
from schema.text_inputs import MULTILINE_ARGUMENT

From = Annotated[dt.datetime | None, strawberry.argument(name="from")]


@strawberry.type(description="A change made through the link.")
class ActionLinkEvent:
    at: dt.datetime
    action: str


@strawberry.type(description="An appointment as its customer sees it through an action link.")
class ActionLinkView:
    appointment_status: AppointmentStatusType = strawberry.field(
        description="Named so, not `status`, to sit beside LinkUnavailable.status in one query."
    )
    starts_at: dt.datetime
    ends_at: dt.datetime
    sequence: int = strawberry.field(description="Pass it back as expectedSequence when rescheduling.")
    service_name: str
    calendar_name: str
    location_name: str
    location_phone: str
    location_email: str
    timezone: str
    can_confirm: bool
    can_reschedule: bool
    can_cancel: bool
    confirm_refusal: str | None = strawberry.field(description="Why confirming is not possible now, if it is not.")
    reschedule_refusal: str | None
    cancel_refusal: str | None
    cancellation_reasons: list[str]
    cancellation_reason_required: bool
    cancellation_policy: str
    history: list[ActionLinkEvent]
    view: strawberry.Private[service.View]

    @classmethod
    def of(cls, view: service.View) -> ActionLinkView:
        appointment, location, tz = view.opened.appointment, view.opened.location, view.tz
        return cls(
            appointment_status=appointment.status,
            starts_at=appointment.starts_at.astimezone(tz),
            ends_at=appointment.ends_at.astimezone(tz),
            sequence=appointment.sequence,
            service_name=view.service.name,
            calendar_name=view.calendar.name,
            location_name=location.name,
            location_phone=location.contact_phone,
            location_email=location.contact_email,
            timezone=location.timezone,
            can_confirm=view.can("CONFIRM"),
            can_reschedule=view.can("RESCHEDULE"),
            can_cancel=view.can("CANCEL"),
            confirm_refusal=view.refusal("CONFIRM"),
            reschedule_refusal=view.refusal("RESCHEDULE"),
            cancel_refusal=view.refusal("CANCEL"),
            cancellation_reasons=list(view.reasons),
            cancellation_reason_required=view.reason_required,
            cancellation_policy=view.policy,
            history=[ActionLinkEvent(at=e.at.astimezone(tz), action=e.action) for e in view.history],
            view=view,
        )

    @strawberry.field(
        description="Free slots to move to (same calendar and service), from `from` (default now) for 14 days. Slot fields: the field that returns this view prices them before any work (QueryTooCostly) and counts each toward the client's per-IP slot limit."
    )
    async def reschedule_slots(self, from_: From = None) -> list[Slot]:
        tz = ZoneInfo(self.timezone)
        slots = await service.reschedule_slots(self.view.opened, from_)
        return [Slot(start=s.start.astimezone(tz), end=s.end.astimezone(tz)) for s in slots]


@strawberry.type(
    description="The appointment's action link was replaced: the old one no longer works. Staff never see the link (it signs the customer in); `sendActionLink` emails the new one to the customer."
)
class ActionLinkRevoked:
    appointment_id: strawberry.ID


@strawberry.type(
    description="The appointment's action link is queued to the customer's email address; `delivery` shows what becomes of it (its body with the link hidden)."
)
class ActionLinkSent:
    delivery: EmailDelivery


ActionLinkResult = Annotated[
    ActionLinkView | LinkUnavailable | NotFound | RateLimited | QueryTooCostly, strawberry.union("ActionLinkResult")
]
ActionLinkChangeResult = Annotated[
    ActionLinkView
    | LinkUnavailable
    | NotFound
    | RateLimited
    | RuleViolation
    | InvalidTransition
    | StaleAppointment
    | SlotUnavailable
    | ValidationError
    | PermissionDenied
    | QueryTooCostly,
    strawberry.union("ActionLinkChangeResult"),
]
RevokeActionLinkResult = Annotated[
    ActionLinkRevoked | PluginDisabled | NotFound | PermissionDenied | ValidationError,
    strawberry.union("RevokeActionLinkResult"),
]
SendActionLinkResult = Annotated[
    ActionLinkSent | PluginDisabled | NotFound | PermissionDenied | ValidationError | RateLimited,
    strawberry.union("SendActionLinkResult"),
]


@contextlib.asynccontextmanager
async def _opened(info: Info, token: str) -> AsyncIterator[Opened]:
    """The link of a token (the attempt counted); when the result selects `rescheduleSlots`, those
    are slot fields: counted toward the client's per-IP slot limit, priced and charged here,
    before anything else is done (so a refusal changes nothing)."""
    fields = selections(info, "rescheduleSlots")
    async with slot_field(info, fields=fields) as charge:
        ctx = info.context
        opened = await service.resolve(ctx.app, token, ctx.client_ip, ctx.limiter)
        if fields:
            await charge(fields * await service.reschedule_cost(opened))
        yield opened


async def _view_after(opened: Opened) -> ActionLinkView:
    """The view after a change (the attempt was already counted)."""
    return ActionLinkView.of(await service.view(await open_link(opened.app, opened.token)))


@strawberry.type
class ActionLinkQuery:
    @strawberry.field(description="The appointment behind an action link, with what its customer may do now.")
    @as_result
    async def action_link(self, info: Info, token: str) -> ActionLinkResult:
        async with _opened(info, token) as opened:
            return ActionLinkView.of(await service.view(opened))


@strawberry.type
class ActionLinkMutation:
    @strawberry.mutation(description="Confirm the appointment (Scheduled becomes Confirmed).")
    @as_result
    async def confirm_via_action_link(self, info: Info, token: str) -> ActionLinkChangeResult:
        async with _opened(info, token) as opened:
            if opened.appointment.status is AppointmentStatus.CONFIRMED:
                return ActionLinkView.of(await service.view(opened))
            await service.confirm(opened, info.context.client_ip, info.context.user_agent)
            return await _view_after(opened)

    @strawberry.mutation(
        description="Move the appointment to a free slot of the same calendar and service (the same appointment; `sequence` goes up by one). It is CONFIRMED afterwards, even if it was SCHEDULED: the customer chose the time."
    )
    @as_result
    async def reschedule_via_action_link(
        self, info: Info, token: str, start: dt.datetime, expected_sequence: int | None = None
    ) -> ActionLinkChangeResult:
        async with _opened(info, token) as opened:
            await service.reschedule(opened, start, expected_sequence, info.context.client_ip, info.context.user_agent)
            return await _view_after(opened)

    @strawberry.mutation(description="Cancel the appointment with a reason from the location's list and a note.")
    @as_result
    async def cancel_via_action_link(
        self, info: Info, token: str, reason: str | None = None, note: Annotated[str | None, MULTILINE_ARGUMENT] = None
    ) -> ActionLinkChangeResult:
        async with _opened(info, token) as opened:
            await service.cancel(opened, reason, note or "", info.context.client_ip, info.context.user_agent)
            return await _view_after(opened)

    @strawberry.mutation(
        description="Staff: replace an appointment's action link; the old link stops working (emails still queued carry the new one). Staff never see the link; `sendActionLink` emails it to the customer."
    )
    @as_result
    @gated(NAME, lambda appointment_id: _location_of(appointment_id))
    async def revoke_action_link(self, info: Info, appointment_id: strawberry.ID) -> RevokeActionLinkResult:
        appointment = await get_appointment(await info.context.staff(), parse_id("Appointment", appointment_id))
        await revoke(info.context.settings, appointment)
        return ActionLinkRevoked(appointment_id=strawberry.ID(str(appointment.id)))

    @strawberry.mutation(
        description=f"Staff: email the customer their appointment's action link (staff never see it: it signs the customer in to the portal), with the location's template of {SENT_EVENT}. ValidationError when the customer has no email or the link has expired; at most {SEND_LIMIT.limit} per appointment per hour (RateLimited)."
    )
    @as_result
    @gated(NAME, lambda appointment_id: _location_of(appointment_id))
    async def send_action_link(self, info: Info, appointment_id: strawberry.ID) -> SendActionLinkResult:
        appointment = await get_appointment(await info.context.staff(), parse_id("Appointment", appointment_id))
        settings = await info.context.app.plugins.settings_of(NAME, appointment.location_id)
        row = await send_link(info.context.app, appointment, settings, info.context.limiter)
        info.context.app.wake_workers()  # send it now, not at the next poll
        return ActionLinkSent(delivery=EmailDelivery.of(row))


async def _location_of(appointment_id) -> int:
    row = await Appointment.get_or_none(id=parse_id("Appointment", appointment_id))
    if row is None:
        raise Missing("Appointment", appointment_id)
    return row.location_id
