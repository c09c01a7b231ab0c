"""Rendering emails about an appointment: the core's placeholder values, times in the
location's timezone and language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from core import clock, plugins
from core.email_registry import fill
from core.email_templates import Template
from core.models import Appointment, AppointmentStatus, Calendar, Customer, Location, RecipientRole, Service


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
    async def load(cls, appointment: Appointment, role: RecipientRole) -> "EmailContext":
        """The context of an email about `appointment` for a recipient role."""
        return cls(
            location=await Location.get(id=appointment.location_id), role=role, appointment=appointment,
            customer=await Customer.get(id=appointment.customer_id), calendar=await Calendar.get(id=appointment.calendar_id),
            service=await Service.get(id=appointment.service_id),
        )


def human_time(instant: dt.datetime, location: Location) -> str:
    """An instant as people at the location read it, e.g. 'Tuesday, 24 November 2026, 10:00'."""
    local = instant.astimezone(ZoneInfo(location.timezone))
    locale = location.locale or "en"
    return f"{format_date(local.date(), 'full', locale=locale)}, {format_time(local.time(), 'short', locale=locale)}"


async def core_values(context: EmailContext) -> dict[str, str]:
    """Values of the core's placeholders for one email."""
    location, appointment, customer = context.location, context.appointment, context.customer
    values = {"LocationName": location.name, "LocationPhone": location.contact_phone}
    if customer is not None:
        values |= {
            "ClientFullName": f"{customer.first_name} {customer.last_name}", "ClientFirstName": customer.first_name,
            "ClientMobilePhone": customer.mobile_phone, "ClientEmail": customer.email,
        }
    if appointment is not None:
        values |= {
            "AppointmentStartDateTime": human_time(appointment.starts_at, location),
            "AppointmentEndDateTime": human_time(appointment.ends_at, location),
            "CancellationReason": appointment.cancellation_reason, "CancellationNote": appointment.cancellation_note,
            "ServiceName": context.service.name if context.service else "",
            "CalendarName": context.calendar.name if context.calendar else "",
        }
        upcoming = await Appointment.filter(
            customer_id=appointment.customer_id, location_id=location.id, starts_at__gt=clock.now(),
            status__in=[AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED],
        ).order_by("starts_at").first()
        values["NextAppointmentStartDateTime"] = human_time(upcoming.starts_at, location) if upcoming else ""
    return values


async def placeholder_values(context: EmailContext, enabled: frozenset[str] | None = None) -> dict[str, str]:
    """Placeholder values for one email: the core's, then those of the plugins enabled at the
    location (`enabled`, when the caller knows them); a disabled plugin's placeholders render empty."""
    values = await core_values(context)
    host = plugins.current()
    owners = {name: p.plugin for name, p in host.registry.placeholders.items()}
    for plugin, extra in await host.call("email_placeholder_values", context.location.id, enabled, context=context):
        # A plugin fills only the placeholders it registered: never core's or another plugin's.
        values.update({str(k): str(v) for k, v in extra.items() if owners.get(str(k)) == plugin})
    return values


def render(template: Template, values: dict[str, str]) -> tuple[str, str]:
    """Subject (one line) and body of a template with placeholder values filled in."""
    subject = " ".join(fill(template.subject, values).split())
    return subject, fill(template.body, values)
