"""Staff's view of email: previews, deliveries and resends, reminder offsets and staff notices."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from core import clock, validation as check
from core.appointments import get_appointment
from core.email.render import EmailContext, placeholder_values, render
from core.email.secrets import mask
from core.email.templates import Template, get_template, template_by_reference
from core.errors import ValidationCode, ValidationFailed
from core.locations import get_location, save_fields, settings_source
from core.models import DeliveryStatus, EmailTemplate, Location, OutboxMessage, RecipientRole, StaffNotice
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, in_scope

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

MAX_REMINDERS = 5


@dataclass(frozen=True)
class Preview:
    """A template rendered for one appointment, as its recipient would read it but for the
    customer's secret links, masked (core.email.secrets)."""

    to: str
    subject: str
    body: str


async def preview_email(host: PluginHost, actor: Staff | None, appointment_id: int, template: int | str) -> Preview:
    """Render a saved template (by id) or a default (by `default:EVENT:ROLE`) for an appointment."""
    appointment = await get_appointment(actor, appointment_id)
    chosen = await _template_for_preview(host, actor, template, appointment.location_id)
    context = await EmailContext.load(appointment, chosen.role)
    assert context.customer is not None and context.calendar is not None  # load() reads them
    values = await placeholder_values(host, context)
    subject, body = render(chosen, values)
    to = context.customer.email if chosen.role is RecipientRole.CUSTOMER else context.calendar.owner_email
    return Preview(to=to, subject=mask(subject), body=mask(body))


async def _template_for_preview(
    host: PluginHost, actor: Staff | None, template: int | str, location_id: int
) -> Template:
    location = await Location.get(id=location_id)
    if not str(template).startswith("default:"):
        row = await get_template(actor, int(template))
        if row.location_id not in (location.id, (await settings_source(location)).id):
            raise ValidationFailed("templateId", "That template belongs to another location.")
    return await template_by_reference(host.registry, template, location)


async def delivery_page(
    actor: Staff | None, location_id: int, statuses: Collection[DeliveryStatus] | None, paging: Paging
) -> Page[OutboxMessage]:
    """A page of a location's emails, newest first, optionally of the given statuses."""
    await get_location(actor, location_id)
    query = OutboxMessage.filter(location_id=location_id)
    if statuses is not None:
        query = query.filter(status__in=list(statuses))
    return await keyset_page(query, ("id",), paging, descending=True)


async def get_delivery(actor: Staff | None, delivery_id: int) -> OutboxMessage:
    """One outbox message in scope."""
    return await in_scope(actor, OutboxMessage, delivery_id, "EmailDelivery")


async def resend_email(actor: Staff | None, delivery_id: int) -> OutboxMessage:
    """Queue a copy of a sent or failed message (a new Message-ID); the original stays as it was."""
    original = await get_delivery(actor, delivery_id)
    if original.status not in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
        raise ValidationFailed(
            "deliveryId", f"Only sent or failed emails can be resent; this one is {original.status.value.lower()}."
        )
    domain = original.message_id.rpartition("@")[2].rstrip(">") or "agendum.local"
    return await OutboxMessage.create(
        location_id=original.location_id,
        appointment_id=original.appointment_id,
        event=original.event,
        role=original.role,
        template_name=original.template_name,
        to_address=original.to_address,
        subject=original.subject,
        body=original.body,
        ics=original.ics,
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        send_after=clock.now(),
        resent_from_id=original.id,
    )


@dataclass(frozen=True)
class EmailSettings:
    """A location's reminder offsets and staff notices (event -> template, None for the default)."""

    reminder_offsets_minutes: list[int]
    staff_notices: list[tuple[str, EmailTemplate | None]]


async def email_settings(actor: Staff | None, location_id: int) -> EmailSettings:
    """The email settings in force at a location (its headquarters' when shared)."""
    source = await settings_source(await get_location(actor, location_id))
    notices = await StaffNotice.filter(location_id=source.id).order_by("event").prefetch_related("template")
    return EmailSettings(list(source.reminder_offsets_minutes or []), [(n.event, n.template) for n in notices])


async def update_email_settings(
    host: PluginHost,
    actor: Staff | None,
    location_id: int,
    *,
    reminder_offsets_minutes: list[int] | None = None,
    staff_notices: list[tuple[str, int | None]] | None = None,
) -> EmailSettings:
    """Replace the reminder offsets and/or the staff notices of a location."""
    location = await get_location(actor, location_id)
    if location.shares_headquarters_settings:
        raise ValidationFailed(
            "locationId",
            "This location uses its headquarters' email settings; change them there.",
            ValidationCode.NOT_EDITABLE,
        )
    problems = check.Problems()
    if reminder_offsets_minutes is not None:
        if len(set(reminder_offsets_minutes)) > MAX_REMINDERS:
            problems.add("reminderOffsetsMinutes", f"Up to {MAX_REMINDERS} reminders.", ValidationCode.OUT_OF_RANGE)
        for index, minutes in enumerate(reminder_offsets_minutes):
            if not 5 <= minutes <= 60 * 24 * 30:
                problems.add(
                    f"reminderOffsetsMinutes[{index}]",
                    "Each reminder 5 minutes to 30 days before.",
                    ValidationCode.OUT_OF_RANGE,
                )
        location.reminder_offsets_minutes = sorted(set(reminder_offsets_minutes), reverse=True)
    notices, seen = [], set()
    for index, (event, template_id) in enumerate(staff_notices or []):
        field = f"staffNotices[{index}]"
        if event not in host.registry.events or event == "APPOINTMENT_REMINDER":
            problems.add(
                f"{field}.event", f"{event!r} is not an event staff can be notified of.", ValidationCode.INVALID_CHOICE
            )
        elif event in seen:
            problems.add(f"{field}.event", "Each event at most once.", ValidationCode.DUPLICATE)
        seen.add(event)
        template = None
        if template_id is not None:
            template = await EmailTemplate.get_or_none(
                id=template_id, location_id=location.id, role=RecipientRole.STAFF
            )
            if template is None:
                problems.add(
                    f"{field}.templateId",
                    f"Template {template_id} is not a staff template of this location.",
                    ValidationCode.INVALID_CHOICE,
                )
        notices.append(StaffNotice(location_id=location.id, event=event, template=template))
    problems.raise_any()
    async with in_transaction():
        if reminder_offsets_minutes is not None:
            await save_fields(location, ["reminder_offsets_minutes"])
        if staff_notices is not None:
            await StaffNotice.filter(location_id=location.id).delete()
            await StaffNotice.bulk_create(notices)
    return await email_settings(actor, location_id)
