"""Calendar files (.ics) for appointment emails: a UID unique per appointment whatever the
installation, a SEQUENCE of its own that every change an attendee's calendar must see raises,
STATUS TENTATIVE until the customer confirms, METHOD CANCEL when it is cancelled."""

from __future__ import annotations

from urllib.parse import urlsplit

from icalendar import Calendar as ICalendar, Event, vCalAddress, vText

from core import clock
from core.models import Appointment, AppointmentStatus, Calendar, Customer, Location, Service

CALENDAR_CHANGES = frozenset({"CONFIRMED", "RESCHEDULED", "CANCELLED"})
"""The changes (booking actions) that raise `Appointment.ics_sequence`: each gives the event a new
STATUS or new times, and RFC 5545 (3.8.7.4) and RFC 5546 (2.1.4) make such a change a new
revision, whose SEQUENCE must be higher or calendars ignore it as stale. COMPLETED and NO_SHOW do
not: no calendar file is sent for them and the event they describe took place as planned."""

# The event's STATUS: tentative until the customer confirms; any other status is CONFIRMED.
_STATUS = {AppointmentStatus.SCHEDULED: "TENTATIVE", AppointmentStatus.CANCELLED: "CANCELLED"}


def appointment_uid(appointment: Appointment, base_url: str) -> str:
    """The UID every calendar file about this appointment carries: its random `ics_uid`, or, for
    an appointment booked before there was one, the `appointment-<id>@<host>` its invites went out with."""
    if appointment.ics_uid is not None:
        return str(appointment.ics_uid)
    host = urlsplit(base_url).hostname or "agendum"
    return f"appointment-{appointment.id}@{host}"


def appointment_ics(
    appointment: Appointment,
    location: Location,
    service: Service,
    calendar: Calendar,
    customer: Customer,
    base_url: str,
) -> str:
    """An iCalendar file inviting the customer to the appointment, or cancelling it."""
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    ics = ICalendar()
    ics.add("prodid", "-//Agendum//Appointments//EN")
    ics.add("version", "2.0")
    ics.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", appointment_uid(appointment, base_url))
    event.add("sequence", appointment.ics_sequence)
    event.add("dtstamp", clock.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"{service.name} with {calendar.name}")
    event.add("location", vText(location.name))
    event.add("status", _STATUS.get(appointment.status, "CONFIRMED"))
    if location.contact_email:
        organizer = vCalAddress(f"mailto:{location.contact_email}")
        organizer.params["cn"] = vText(location.name)
        event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{customer.email}")
    attendee.params["cn"] = vText(f"{customer.first_name} {customer.last_name}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    ics.add_component(event)
    return ics.to_ical().decode("utf-8")
