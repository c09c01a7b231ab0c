"""Calendar files (.ics) for appointment emails: a stable UID per appointment, SEQUENCE from the
appointment, METHOD CANCEL when it is cancelled."""

from __future__ import annotations

from urllib.parse import urlsplit

from icalendar import Calendar as ICalendar
from icalendar import Event, vCalAddress, vText

from core import clock
from core.models import Appointment, AppointmentStatus, Calendar, Customer, Location, Service


def appointment_uid(appointment: Appointment, base_url: str) -> str:
    """The UID every calendar file about this appointment carries."""
    host = urlsplit(base_url).hostname or "agendum"
    return f"appointment-{appointment.id}@{host}"


def appointment_ics(
    appointment: Appointment, location: Location, service: Service, calendar: Calendar, customer: Customer, base_url: str
) -> str:
    """An iCalendar file inviting the customer to the appointment, or cancelling it."""
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    ics = ICalendar()
    ics.add("prodid", "-//Agendum//Appointments//EN")
    ics.add("version", "2.0")
    ics.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", appointment_uid(appointment, base_url))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", clock.now())
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"{service.name} with {calendar.name}")
    event.add("location", vText(location.name))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
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
