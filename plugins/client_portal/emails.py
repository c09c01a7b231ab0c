"""The portal's emails: account emails to customers (confirm the address, set a password) and
notices to staff of bookings and cancellations made in the portal."""

from __future__ import annotations

from core.agendum import Agendum
from core.changes import Change
from core.email.notifications import OutgoingEmail, compose, queue_emails
from core.email.registry import DefaultTemplate, EmailEvent, EmailRegistry, Placeholder
from core.email.render import EmailContext
from core.email.templates import customer_template, default_template, template_by_reference
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.locations import settings_source
from core.models import ActorKind, Customer, Location, RecipientRole
from plugins.client_portal.addresses import Portal, portal_url
from plugins.client_portal.models import PortalAccount
from plugins.client_portal.settings import BOOKED_EVENT, CANCELLED_EVENT, NAME, PortalSettings

CUSTOMER, STAFF = RecipientRole.CUSTOMER, RecipientRole.STAFF
VERIFY_EVENT, PASSWORD_EVENT = "PORTAL_VERIFY_EMAIL", "PORTAL_SET_PASSWORD"
LINK, ACCOUNT_LINK = "PortalLink", "PortalAccountLink"
NOTICE = "{ClientFullName} ({ClientMobilePhone}) just made this appointment via the client portal: {AppointmentStartDateTime}\n"

EVENTS = [
    EmailEvent(
        BOOKED_EVENT,
        "A customer booked through the client portal (to the diary contact and the listed addresses).",
        defaults=(
            DefaultTemplate(STAFF, "Client portal booking: {ClientFullName}, {AppointmentStartDateTime}", NOTICE),
        ),
    ),
    EmailEvent(
        CANCELLED_EVENT,
        "A customer cancelled through the client portal (to the diary contact).",
        defaults=(
            DefaultTemplate(
                STAFF,
                "Client portal cancellation: {ClientFullName}, {AppointmentStartDateTime}",
                "{ClientFullName} ({ClientMobilePhone}) just cancelled this appointment via the client portal: "
                "{AppointmentStartDateTime}\nReason: {CancellationReason}\n{CancellationNote}\n",
            ),
        ),
    ),
    EmailEvent(
        VERIFY_EVENT,
        "A new client portal account: the link to confirm the email address.",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Confirm your email for {LocationName}",
                "Hello,\n\nplease confirm your email address to finish setting up your account on the "
                "client portal of {LocationName}:\n\n{PortalAccountLink}\n\nThe link works once, within 48 hours. If you did "
                "not ask for an account, ignore this email.\n\n{LocationName}\n{LocationPhone}\n",
            ),
        ),
    ),
    EmailEvent(
        PASSWORD_EVENT,
        "The link to set or reset a client portal password.",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Your password for {LocationName}",
                "Hello,\n\nuse this link to choose your password for the client portal of {LocationName}:\n\n"
                "{PortalAccountLink}\n\nThe link works once, within 2 hours. If you did not ask for it, ignore this email: "
                "nothing changes.\n\n{LocationName}\n{LocationPhone}\n",
            ),
        ),
    ),
]
PLACEHOLDERS = [
    Placeholder(LINK, "The address of the location's client portal.", frozenset({CUSTOMER, STAFF})),
    Placeholder(
        ACCOUNT_LINK,
        "The single-use link of a client portal account email (confirm the address, set a password).",
        frozenset({CUSTOMER}),
    ),
]


async def placeholder_values(app: Agendum, context: EmailContext) -> dict[str, str]:
    """{PortalLink} wherever the portal is on; {PortalAccountLink} only in account emails."""
    slug = (await app.plugins.settings_of(NAME, context.location.id)).slug
    return {LINK: portal_url(app.settings, slug) if slug else "", ACCOUNT_LINK: context.extra.get(ACCOUNT_LINK, "")}


async def send_account_email(
    portal: Portal, account: PortalAccount, event: str, link: str, customer: Customer | None = None
) -> None:
    """Queue an account email with its single-use link (`link`: its sealed reference,
    core.email.secrets; appended when a location's own template leaves the link out), to the
    account's customer (`customer` when the caller has it already)."""
    if customer is None and account.customer_id:
        customer = await Customer.get_or_none(id=account.customer_id)
    if customer is None:  # not a client yet: nothing a stranger typed into the form goes into the email
        customer = Customer(first_name="", last_name="", email=account.email, mobile_phone="")
    template = await customer_template(portal.app.plugins.registry, await settings_source(portal.location), event)
    context = EmailContext(location=portal.location, role=CUSTOMER, customer=customer, extra={ACCOUNT_LINK: link})
    message = await compose(portal.app.plugins, template, context, account.email, portal.enabled)
    if link not in message.body:
        message.body = f"{message.body.rstrip()}\n\n{link}\n"
    await queue_emails(portal.app.plugins, portal.location.id, [message])


TEMPLATE_SETTINGS = {
    "notifyOnNewTemplate": BOOKED_EVENT,
    "notifyOnCancelTemplate": CANCELLED_EVENT,
    "newAppointmentAddressesTemplate": BOOKED_EVENT,
}


async def check_notice_templates(registry: EmailRegistry, location: Location, settings: dict) -> None:
    """Refuse settings that choose a template which is not a staff template of the notice's event here."""
    for key, event in TEMPLATE_SETTINGS.items():
        reference = settings.get(key)
        if reference is None:
            continue
        try:
            template = await template_by_reference(registry, reference, location)
        except NotFound:
            template = None
        if template is None or template.event != event or template.role is not STAFF:
            raise ValidationFailed(
                f"settings.{key}",
                f"Choose a staff template of the event {event} at this location, or null for no email.",
                ValidationCode.INVALID_CHOICE,
            )


async def _template(registry: EmailRegistry, reference: str, location: Location, event: str):
    try:
        return await template_by_reference(registry, reference, location)
    except NotFound:  # the chosen template was deleted since: the default stands in
        return default_template(registry, event, STAFF)


async def staff_notices(app: Agendum, change: Change) -> list[OutgoingEmail]:
    """For a booking or cancellation made in the portal: the notice to the diary contact and, for
    bookings, to the listed addresses, each with its chosen template (None: not sent)."""
    if change.actor.kind is not ActorKind.PORTAL or change.action not in ("BOOKED", "CANCELLED"):
        return []
    appointment = change.appointment
    settings: PortalSettings = await app.plugins.settings_of(NAME, appointment.location_id)
    context = await EmailContext.load(appointment, STAFF)
    booked = change.action == "BOOKED"
    event = BOOKED_EVENT if booked else CANCELLED_EVENT
    recipients: list[tuple[str | None, str]] = []
    if context.calendar.owner_email:
        recipients.append(
            (
                settings.notify_on_new_template if booked else settings.notify_on_cancel_template,
                context.calendar.owner_email,
            )
        )
    if booked:
        recipients += [
            (settings.new_appointment_addresses_template, address) for address in settings.new_appointment_addresses
        ]
    messages = []
    for reference, address in recipients:
        if reference is not None:
            messages.append(
                await compose(
                    app.plugins,
                    await _template(app.plugins.registry, reference, context.location, event),
                    context,
                    address,
                )
            )
    return messages
