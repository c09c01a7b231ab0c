"""The action link in emails: the block customers' appointment emails carry, and the email staff
send with `sendActionLink`. The link is a credential (it signs the customer in to the portal), so
emails keep it as a reference (core.email.secrets): staff never see it, the customer receives it."""

from __future__ import annotations

from core import clock
from core.agendum import Agendum
from core.booking import LIVE
from core.email.notifications import OutgoingEmail, compose, queue_email
from core.email.registry import DefaultTemplate, EmailEvent
from core.email.render import EmailContext
from core.email.secrets import derived_in, derived_link
from core.email.templates import customer_template
from core.errors import ValidationFailed
from core.locations import settings_source
from core.models import Appointment, OutboxMessage, RecipientRole
from core.security.ratelimit import Limiter, enforce
from core.settings import RateLimit
from plugins.action_links.links import SECRET_KIND, ActionLinkSettings, expires_at

PLACEHOLDER = "ActionLinkBlock"
# Once an appointment is cancelled, completed or a no-show, its page refuses every action and
# still shows its details: the block then says that much instead of the staff's link text.
DETAILS_TEXT = "View the details of your appointment"
SENT_EVENT = "APPOINTMENT_ACTION_LINK"
SEND_LIMIT = RateLimit(5, 60 * 60)  # sendActionLink: emails per appointment per hour
SENT_OFTEN = f"This appointment's link was already emailed {SEND_LIMIT.limit} times within the hour."

EVENTS = [
    EmailEvent(
        SENT_EVENT,
        "Staff sent the customer the link to their appointment (sendActionLink).",
        defaults=(
            DefaultTemplate(
                RecipientRole.CUSTOMER,
                "Your appointment at {LocationName}",
                "Hello {ClientFirstName},\n\nhere is the link to your appointment:\n\n{ServiceName} with {CalendarName}\n"
                "{AppointmentStartDateTime}\n\n{ActionLinkBlock}\n{LocationName}\n{LocationPhone}\n",
            ),
        ),
    ),
]


def block(app: Agendum, appointment: Appointment, settings: ActionLinkSettings) -> str:
    """The link text, then the link (its reference, sealed with the app's key): the location's text
    while the customer may still act on the appointment; afterwards what its page still offers."""
    text = settings.link_text if appointment.status in LIVE else DETAILS_TEXT
    return f"{text}\n{derived_link(SECRET_KIND, str(appointment.id), app.settings)}\n"


def with_block(app: Agendum, message: OutgoingEmail, appointment: Appointment, settings: ActionLinkSettings) -> None:
    """Append the block to a message whose body lacks this appointment's link."""
    if (SECRET_KIND, str(appointment.id)) not in derived_in(message.body, app.settings):
        message.body = f"{message.body.rstrip()}\n\n{block(app, appointment, settings)}"


async def send_link(
    app: Agendum, appointment: Appointment, settings: ActionLinkSettings, limiter: Limiter
) -> OutboxMessage:
    """Queue the email that gives the customer their appointment's link (the location's template
    of SENT_EVENT, the block appended when it lacks it); its outbox row. Refused when the customer
    has no email or the link has expired; at most SEND_LIMIT per appointment."""
    context = await EmailContext.load(appointment, RecipientRole.CUSTOMER)
    if not context.customer.email:
        raise ValidationFailed("appointmentId", "The customer has no email address to send the link to.")
    if clock.now() > expires_at(appointment, settings):
        raise ValidationFailed(
            "appointmentId", "This appointment's link has expired (validHoursAfterEnd after the appointment ended)."
        )
    await enforce(limiter, f"action-link:send:{appointment.id}", SEND_LIMIT, SENT_OFTEN)
    template = await customer_template(app.plugins.registry, await settings_source(context.location), SENT_EVENT)
    message = await compose(app.plugins, template, context, context.customer.email)
    with_block(app, message, appointment, settings)
    return await queue_email(app.plugins, appointment.location_id, appointment.id, message)
