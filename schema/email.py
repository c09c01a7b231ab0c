"""GraphQL for email: placeholders, templates, previews, deliveries, reminders and staff notices."""

from __future__ import annotations

import datetime as dt

import strawberry

from core import models
from core.email import admin as email_admin, secrets as email_secrets, templates as email_templates
from core.locations import get_location
from core.pagination import Paging
from schema.context import Info
from schema.errors import as_result
from schema.inputs import one_or_list, parse_id, result
from schema.text_inputs import MULTILINE
from schema.types import Connection

RecipientRole = strawberry.enum(models.RecipientRole, description="Whom an email is written for.")
DeliveryStatus = strawberry.enum(
    models.DeliveryStatus, description="QUEUED, SENDING, SENT, FAILED, or VOID (a reminder that no longer applies)."
)


@strawberry.type(description="A `{Name}` usable in email templates.")
class EmailPlaceholder:
    name: str
    description: str
    roles: list[RecipientRole]
    plugin: str | None = strawberry.field(description="The plugin that provides it; null for core.")


@strawberry.type(description="An event that can trigger emails.")
class EmailEvent:
    name: str
    description: str
    plugin: str | None


@strawberry.type(
    description="A plain-text email template; defaults have an id starting with `default:` and cannot be deleted."
)
class EmailTemplate:
    id: strawberry.ID
    name: str
    event: str
    role: RecipientRole
    subject: str
    body: str
    is_default: bool

    @classmethod
    def of(cls, template: email_templates.Template) -> EmailTemplate:
        template_id = f"default:{template.event}:{template.role.value}" if template.is_default else str(template.id)
        return cls(
            id=strawberry.ID(template_id),
            name=template.name,
            event=template.event,
            role=template.role,
            subject=template.subject,
            body=template.body,
            is_default=template.is_default,
        )


@strawberry.type(description="A template rendered for one appointment.")
class EmailPreview:
    to: str
    subject: str
    body: str = strawberry.field(
        description="The customer's secret links shown as `[link hidden: sent to the customer only]`."
    )


@strawberry.type(description="One email in the outbox and what became of it.")
class EmailDelivery:
    id: strawberry.ID
    event: str
    role: RecipientRole
    template_name: str
    to: str
    subject: str
    body: str = strawberry.field(
        description="As queued, with the customer's secret links (action links, portal links to confirm an address or set a password) shown as `[link hidden: sent to the customer only]`: they are put in only as the email is sent."
    )
    has_calendar_file: bool
    message_id: str
    status: DeliveryStatus
    attempts: int = strawberry.field(
        description=(
            "Tries: how many times an SMTP server answered this message, accepting or refusing it (1 when the first try "
            "was accepted, 0 until it is tried). Time the server could not be reached spends no try; a message that "
            "cannot be built fails with 0."
        )
    )
    is_reminder: bool
    send_after: dt.datetime
    sent_at: dt.datetime | None
    last_error: str
    created_at: dt.datetime
    appointment_id: strawberry.ID | None
    resent_from_id: strawberry.ID | None

    @classmethod
    def of(cls, m: models.OutboxMessage) -> EmailDelivery:
        return cls(
            id=strawberry.ID(str(m.id)),
            event=m.event,
            role=m.role,
            template_name=m.template_name,
            to=m.to_address,
            subject=email_secrets.mask(m.subject),
            body=email_secrets.mask(m.body),
            has_calendar_file=bool(m.ics),
            message_id=m.message_id,
            status=m.status,
            attempts=m.attempts,
            is_reminder=m.is_reminder,
            send_after=m.send_after,
            sent_at=m.sent_at,
            last_error=m.last_error,
            created_at=m.created_at,
            appointment_id=strawberry.ID(str(m.appointment_id)) if m.appointment_id else None,
            resent_from_id=strawberry.ID(str(m.resent_from_id)) if m.resent_from_id else None,
        )


@strawberry.type(
    description="Which event notifies the calendar's owner (when a customer made the change), with which template (null: the default)."
)
class StaffNoticeSetting:
    event: str
    template: EmailTemplate | None


@strawberry.type(description="Reminder offsets and staff notices of a location.")
class EmailSettings:
    reminder_offsets_minutes: list[int]
    staff_notices: list[StaffNoticeSetting]

    @classmethod
    def of(cls, settings: email_admin.EmailSettings) -> EmailSettings:
        return cls(
            reminder_offsets_minutes=settings.reminder_offsets_minutes,
            staff_notices=[
                StaffNoticeSetting(
                    event=event, template=EmailTemplate.of(email_templates.Template.of(t)) if t else None
                )
                for event, t in settings.staff_notices
            ],
        )


@strawberry.type
class EmailPlaceholderList:
    placeholders: list[EmailPlaceholder]


@strawberry.type
class EmailTemplateList:
    templates: list[EmailTemplate]
    events: list[EmailEvent]


@strawberry.input
class SaveEmailTemplateInput:
    location_id: strawberry.ID
    name: str
    event: str
    role: RecipientRole
    subject: str
    body: str = strawberry.field(directives=[MULTILINE])


@strawberry.input
class StaffNoticeInput:
    event: str
    template_id: strawberry.ID | None = None


@strawberry.input(description="Only the fields given change; `staffNotices` replaces the list.")
class EmailSettingsInput:
    reminder_offsets_minutes: list[int] | None = None
    staff_notices: list[StaffNoticeInput] | None = None


EmailPlaceholderListResult = result("EmailPlaceholderListResult", EmailPlaceholderList)
EmailTemplateListResult = result("EmailTemplateListResult", EmailTemplateList)
EmailTemplateResult = result("EmailTemplateResult", EmailTemplate)
EmailPreviewResult = result("EmailPreviewResult", EmailPreview)
EmailDeliveryResult = result("EmailDeliveryResult", EmailDelivery)
EmailDeliveryConnectionResult = result("EmailDeliveryConnectionResult", Connection[EmailDelivery])
EmailSettingsResult = result("EmailSettingsResult", EmailSettings)


async def enabled_plugins(info: Info, location_id: int) -> frozenset[str]:
    """Plugins enabled at a location (their placeholders are allowed there)."""
    return await info.context.app.plugins.enabled_names(location_id)


@strawberry.type
class EmailQuery:
    @strawberry.field(description="Placeholders usable at a location for a recipient role.")
    @as_result
    async def email_placeholders(
        self, info: Info, location_id: strawberry.ID, role: RecipientRole
    ) -> EmailPlaceholderListResult:
        location = await get_location(await info.context.staff(), parse_id("Location", location_id))
        allowed = info.context.app.plugins.registry.allowed(role, await enabled_plugins(info, location.id))
        return EmailPlaceholderList(
            placeholders=[
                EmailPlaceholder(
                    name=p.name,
                    description=p.description,
                    roles=sorted(p.roles, key=lambda r: r.value),
                    plugin=p.plugin,
                )
                for p in allowed
            ]
        )

    @strawberry.field(
        description="Templates in force at a location (its headquarters' when shared), with the built-in defaults, and the events."
    )
    @as_result
    async def email_templates(self, info: Info, location_id: strawberry.ID) -> EmailTemplateListResult:
        templates = await email_templates.location_templates(
            info.context.app.plugins, await info.context.staff(), parse_id("Location", location_id)
        )
        events = [
            EmailEvent(name=e.name, description=e.description, plugin=e.plugin)
            for e in sorted(info.context.app.plugins.registry.events.values(), key=lambda e: e.name)
        ]
        return EmailTemplateList(templates=[EmailTemplate.of(t) for t in templates], events=events)

    @strawberry.field(
        description="A template rendered for an appointment (templateId of a saved template or a `default:` id)."
    )
    @as_result
    async def preview_email(
        self, info: Info, appointment_id: strawberry.ID, template_id: strawberry.ID
    ) -> EmailPreviewResult:
        template = (
            str(template_id) if str(template_id).startswith("default:") else parse_id("EmailTemplate", template_id)
        )
        preview = await email_admin.preview_email(
            info.context.app.plugins, await info.context.staff(), parse_id("Appointment", appointment_id), template
        )
        return EmailPreview(to=preview.to, subject=preview.subject, body=preview.body)

    @strawberry.field(description="Emails of a location, newest first.")
    @as_result
    async def email_deliveries(
        self,
        info: Info,
        location_id: strawberry.ID,
        status: DeliveryStatus | None = None,
        statuses: list[DeliveryStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> EmailDeliveryConnectionResult:
        page = await email_admin.delivery_page(
            await info.context.staff(),
            parse_id("Location", location_id),
            one_or_list(status, statuses, "statuses"),
            Paging(first, after, last, before),
        )
        return Connection[EmailDelivery].of(page, EmailDelivery.of)

    @strawberry.field(description="Reminder offsets and staff notices in force at a location.")
    @as_result
    async def email_settings(self, info: Info, location_id: strawberry.ID) -> EmailSettingsResult:
        return EmailSettings.of(
            await email_admin.email_settings(await info.context.staff(), parse_id("Location", location_id))
        )


@strawberry.type
class EmailMutation:
    @strawberry.mutation(
        description="Create or replace (by name) a template; unknown or role-forbidden placeholders are refused."
    )
    @as_result
    async def save_email_template(self, info: Info, input: SaveEmailTemplateInput) -> EmailTemplateResult:
        location_id = parse_id("Location", input.location_id)
        row = await email_templates.save_template(
            info.context.app.plugins,
            await info.context.staff(),
            location_id,
            name=input.name,
            event=input.event,
            role=input.role,
            subject=input.subject,
            body=input.body,
            enabled_plugins=await enabled_plugins(info, location_id),
        )
        return EmailTemplate.of(email_templates.Template.of(row))

    @strawberry.mutation(description="Delete a saved template; its event falls back to the default.")
    @as_result
    async def delete_email_template(self, info: Info, id: strawberry.ID) -> EmailTemplateResult:
        row = await email_templates.delete_template(await info.context.staff(), parse_id("EmailTemplate", id))
        return EmailTemplate.of(email_templates.Template.of(row))

    @strawberry.mutation(description="Queue a copy of a sent or failed email.")
    @as_result
    async def resend_email(self, info: Info, delivery_id: strawberry.ID) -> EmailDeliveryResult:
        row = await email_admin.resend_email(await info.context.staff(), parse_id("EmailDelivery", delivery_id))
        info.context.app.wake_workers()  # send it now, not at the next poll
        return EmailDelivery.of(row)

    @strawberry.mutation(
        description="Set reminder offsets (minutes before) and which events notify the calendar's owner."
    )
    @as_result
    async def update_email_settings(
        self, info: Info, location_id: strawberry.ID, input: EmailSettingsInput
    ) -> EmailSettingsResult:
        notices = None
        if input.staff_notices is not None:
            notices = [
                (n.event, parse_id("EmailTemplate", n.template_id) if n.template_id else None)
                for n in input.staff_notices
            ]
        settings = await email_admin.update_email_settings(
            info.context.app.plugins,
            await info.context.staff(),
            parse_id("Location", location_id),
            reminder_offsets_minutes=input.reminder_offsets_minutes,
            staff_notices=notices,
        )
        return EmailSettings.of(settings)
