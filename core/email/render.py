"""Rendering emails about an appointment: the core's placeholder values, times in the
location's timezone and language, each naming its zone (core.timefmt)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core import clock
from core.email.registry import fill
from core.email.templates import Template
from core.models import Appointment, AppointmentStatus, Calendar, Customer, Location, RecipientRole, Service
from core.timefmt import TimeFormatter

if TYPE_CHECKING:
    from core.plugins.host import PluginHost


@dataclass
class EmailContext:
    """Everything an email about one appointment may mention (plugins receive it too)."""

    location: Location
    role: RecipientRole
    appointment: Appointment | None = None
    customer: Customer | None = None
    calendar: Calendar | None = None
    service: Service | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, appointment: Appointment, role: RecipientRole) -> EmailContext:
        """The context of an email about `appointment` for a recipient role."""
        return cls(
            location=await Location.get(id=appointment.location_id),
            role=role,
            appointment=appointment,
            customer=await Customer.get(id=appointment.customer_id),
            calendar=await Calendar.get(id=appointment.calendar_id),
            service=await Service.get(id=appointment.service_id),
        )


async def core_values(context: EmailContext) -> dict[str, str]:
    """Values of the core's placeholders for one email."""
    location, appointment, customer = context.location, context.appointment, context.customer
    fmt = TimeFormatter.of(location)
    values = {"LocationName": location.name, "LocationPhone": location.contact_phone}
    if customer is not None:
        values |= {
            "ClientFullName": f"{customer.first_name} {customer.last_name}",
            "ClientFirstName": customer.first_name,
            "ClientMobilePhone": customer.mobile_phone,
            "ClientEmail": customer.email,
        }
    if appointment is not None:
        values |= {
            "AppointmentStartDateTime": fmt.datetime(appointment.starts_at),
            "AppointmentEndDateTime": fmt.datetime(appointment.ends_at),
            "CancellationReason": appointment.cancellation_reason,
            "CancellationNote": appointment.cancellation_note,
            "ServiceName": context.service.name if context.service else "",
            "CalendarName": context.calendar.name if context.calendar else "",
        }
        upcoming = (
            await Appointment.filter(
                customer_id=appointment.customer_id,
                location_id=location.id,
                starts_at__gt=clock.now(),
                status__in=[AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED],
            )
            .order_by("starts_at")
            .first()
        )
        values["NextAppointmentStartDateTime"] = fmt.datetime(upcoming.starts_at) if upcoming else ""
    return values


async def placeholder_values(
    host: PluginHost, context: EmailContext, enabled: frozenset[str] | None = None
) -> dict[str, str]:
    """Placeholder values for one email: the core's, then those of the plugins enabled at the
    location (`enabled`, when the caller knows them); a disabled plugin's placeholders render empty."""
    values = await core_values(context)
    owners = {name: p.plugin for name, p in host.registry.placeholders.items()}
    for plugin, extra in await host.call("email_placeholder_values", context.location.id, enabled, context=context):
        # A plugin fills only the placeholders it registered: never core's or another plugin's.
        values.update({str(k): str(v) for k, v in extra.items() if owners.get(str(k)) == plugin})
    return values


def render(template: Template, values: dict[str, str]) -> tuple[str, str]:
    """Subject (one line) and body of a template with placeholder values filled in."""
    subject = " ".join(fill(template.subject, values).split())
    return subject, fill(template.body, values)
