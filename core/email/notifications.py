"""Who is told what: turns each appointment change into outbox rows, inside the booking
transaction (so a change and its emails commit together, and a failed change leaves none)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING

from core import clock
from core.changes import Change
from core.email.ics import appointment_ics
from core.email.render import EmailContext, placeholder_values, render
from core.email.templates import Template, customer_template, default_template
from core.locations import settings_source
from core.models import DeliveryStatus, EmailTemplate, OutboxMessage, RecipientRole, StaffNotice

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

CUSTOMER, STAFF = RecipientRole.CUSTOMER, RecipientRole.STAFF
EVENT_OF_ACTION = {
    "BOOKED": "APPOINTMENT_BOOKED",
    "CONFIRMED": "APPOINTMENT_CONFIRMED",
    "RESCHEDULED": "APPOINTMENT_RESCHEDULED",
    "CANCELLED": "APPOINTMENT_CANCELLED",
}


@dataclass
class OutgoingEmail:
    """A message about to be queued; plugins may change it (amend_email) or add more."""

    event: str
    role: RecipientRole
    to: str
    subject: str
    body: str
    template_name: str = ""
    ics: str | None = None
    send_after: dt.datetime | None = None
    is_reminder: bool = False
    appointment_sequence: int | None = None


async def compose(
    host: PluginHost, template: Template, context: EmailContext, to: str, enabled: frozenset[str] | None = None, **extra
) -> OutgoingEmail:
    """Render a template for one recipient (`enabled`: the plugins enabled at the location, when
    known). Plugins use it for the messages they add or send."""
    subject, body = render(template, await placeholder_values(host, context, enabled))
    return OutgoingEmail(template.event, template.role, to, subject, body, template.name, **extra)


async def queue_emails(host: PluginHost, location_id: int, messages: list[OutgoingEmail]) -> None:
    """Queue messages that are not about an appointment change (e.g. a plugin's account emails)
    in the caller's transaction. Once it has committed, call `host.app.wake_workers()` so they
    go now rather than at the next poll."""
    await Notifier(host).write(location_id, None, messages)


async def queue_email(
    host: PluginHost, location_id: int, appointment_id: int | None, message: OutgoingEmail
) -> OutboxMessage:
    """Queue one message (about an appointment, when given) outside an appointment change, and
    return its outbox row, e.g. to show staff what becomes of it. Wake the workers afterwards."""
    row = Notifier(host).row(location_id, appointment_id, message, clock.now())
    await row.save()
    return row


class Notifier:
    """Queues the emails of appointment changes (core's `appointment_changing` hook, core/plugins/core_hooks.py)."""

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        settings = self.settings = host.settings
        self.domain = parseaddr(settings.mail_from)[1].partition("@")[2] or "agendum.local"

    def message_id(self) -> str:
        """A fresh Message-ID; kept with the row so a re-send after a crash reuses it."""
        return f"<{uuid.uuid4().hex}@{self.domain}>"

    async def messages_for(self, change: Change, enabled: frozenset[str] = frozenset()) -> list[OutgoingEmail]:
        """The customer email, the staff notice and the reminders that a change calls for."""
        event = EVENT_OF_ACTION.get(change.action)
        if event is None:
            return []
        appointment = change.appointment
        context = await EmailContext.load(appointment, CUSTOMER)
        # load() reads them all
        assert context.customer is not None and context.calendar is not None and context.service is not None
        source = await settings_source(context.location)
        messages = []
        template = await customer_template(self.host.registry, source, event)
        if template is not None and context.customer.email:
            # Every change the customer is told of reaches their calendar too: an invite
            # (TENTATIVE, then CONFIRMED), its move, its cancellation. See core/email/ics.py.
            ics = appointment_ics(
                appointment,
                context.location,
                context.service,
                context.calendar,
                context.customer,
                self.settings.base_url,
            )
            messages.append(await compose(self.host, template, context, context.customer.email, enabled, ics=ics))
        if change.actor.is_customer and change.actor.core_staff_notices and context.calendar.owner_email:
            notice = await StaffNotice.get_or_none(location_id=source.id, event=event)
            if notice is not None:
                row = await EmailTemplate.get_or_none(id=notice.template_id) if notice.template_id else None
                staff_template = Template.of(row) if row else default_template(self.host.registry, event, STAFF)
                if staff_template is not None:
                    staff_context = EmailContext(**{**context.__dict__, "role": STAFF})
                    messages.append(
                        await compose(self.host, staff_template, staff_context, context.calendar.owner_email, enabled)
                    )
        if change.action in ("BOOKED", "RESCHEDULED"):
            messages += await self.reminders(context, source, enabled)
        return messages

    async def reminders(
        self, context: EmailContext, source, enabled: frozenset[str] = frozenset()
    ) -> list[OutgoingEmail]:
        """Reminders at the location's offsets that are still ahead, tied to this sequence."""
        appointment, customer = context.appointment, context.customer
        assert appointment is not None and customer is not None  # a context about an appointment
        template = await customer_template(self.host.registry, source, "APPOINTMENT_REMINDER")
        if template is None or not customer.email:
            return []
        now = clock.now()
        messages = []
        for minutes in sorted(set(source.reminder_offsets_minutes or []), reverse=True):
            send_after = appointment.starts_at - dt.timedelta(minutes=minutes)
            if send_after > now:
                messages.append(
                    await compose(
                        self.host,
                        template,
                        context,
                        customer.email,
                        enabled,
                        send_after=send_after,
                        is_reminder=True,
                        appointment_sequence=appointment.sequence,
                    )
                )
        return messages

    async def queue(self, change: Change) -> None:
        """In-transaction listener: void stale reminders, then write this change's emails, with
        the messages enabled plugins add and after their amendments."""
        appointment = change.appointment
        if change.action in ("RESCHEDULED", "CANCELLED", "COMPLETED", "NO_SHOW"):
            await OutboxMessage.filter(
                appointment_id=appointment.id, is_reminder=True, status=DeliveryStatus.QUEUED
            ).update(status=DeliveryStatus.VOID, last_error="The appointment changed; this reminder no longer applies.")
        host = self.host
        enabled = await host.enabled_names(appointment.location_id)
        messages = await self.messages_for(change, enabled)
        for _, extra in await host.call("emails_for_change", appointment.location_id, enabled, change=change):
            messages += list(extra)
        if enabled:
            for message in messages:
                context = await EmailContext.load(appointment, message.role)
                await host.call("amend_email", appointment.location_id, enabled, message=message, context=context)
        await self.write(appointment.location_id, appointment.id, messages)

    def row(self, location_id: int, appointment_id: int | None, m: OutgoingEmail, now) -> OutboxMessage:
        """The (unsaved) outbox row of a message, with a fresh Message-ID."""
        return OutboxMessage(
            location_id=location_id,
            appointment_id=appointment_id,
            event=m.event,
            role=m.role,
            template_name=m.template_name[:200],
            to_address=m.to,
            subject=m.subject[:500],
            body=m.body,
            ics=m.ics,
            message_id=self.message_id(),
            is_reminder=m.is_reminder,
            appointment_sequence=m.appointment_sequence,
            send_after=m.send_after or now,
        )

    async def write(self, location_id: int, appointment_id: int | None, messages: list[OutgoingEmail]) -> None:
        """Outbox rows for the messages (in the caller's transaction)."""
        now = clock.now()
        await OutboxMessage.bulk_create([self.row(location_id, appointment_id, m, now) for m in messages])
