"""The registry of email events and placeholders: core fills it, plugins add theirs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.models import RecipientRole

CUSTOMER, STAFF = RecipientRole.CUSTOMER, RecipientRole.STAFF
BOTH = frozenset({CUSTOMER, STAFF})
PLACEHOLDER_RE = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")


@dataclass(frozen=True)
class DefaultTemplate:
    """An event's built-in template for one recipient role, used where a location has saved none."""

    role: RecipientRole
    subject: str
    body: str


@dataclass(frozen=True)
class EmailEvent:
    """Something that can trigger an email; `action` is the appointment change it follows, if any;
    `defaults`, its built-in templates (at most one per role)."""

    name: str
    description: str
    action: str | None = None
    plugin: str | None = None
    defaults: tuple[DefaultTemplate, ...] = ()


@dataclass(frozen=True)
class Placeholder:
    """A `{Name}` usable in templates for the given recipient roles."""

    name: str
    description: str
    roles: frozenset[RecipientRole] = BOTH
    plugin: str | None = None


@dataclass
class EmailRegistry:
    """Events and placeholders by name; names are unique across core and plugins."""

    events: dict[str, EmailEvent] = field(default_factory=dict)
    placeholders: dict[str, Placeholder] = field(default_factory=dict)

    def add_event(self, event: EmailEvent) -> None:
        """Register an event; a second one of the same name is refused, naming both owners."""
        if event.name in self.events:
            raise ValueError(
                f"Email event {event.name!r} is registered by {_owner(self.events[event.name])} and {_owner(event)}."
            )
        self.events[event.name] = event

    def add_placeholder(self, placeholder: Placeholder) -> None:
        """Register a placeholder; a second one of the same name is refused, naming both owners."""
        if placeholder.name in self.placeholders:
            existing = self.placeholders[placeholder.name]
            raise ValueError(
                f"Email placeholder {placeholder.name!r} is registered by {_owner(existing)} and {_owner(placeholder)}."
            )
        self.placeholders[placeholder.name] = placeholder

    def default(self, event: str, role: RecipientRole) -> DefaultTemplate | None:
        """The built-in template of an event for a role, if the event has one."""
        found = self.events.get(event)
        return next((d for d in found.defaults if d.role is role), None) if found else None

    def allowed(self, role: RecipientRole, enabled_plugins: frozenset[str] = frozenset()) -> list[Placeholder]:
        """Placeholders usable for a role: core's and those of the given enabled plugins, by name."""
        return sorted(
            (
                p
                for p in self.placeholders.values()
                if role in p.roles and (p.plugin is None or p.plugin in enabled_plugins)
            ),
            key=lambda p: p.name,
        )


def _owner(item: EmailEvent | Placeholder) -> str:
    return f"plugin {item.plugin!r}" if item.plugin else "core"


_SIGNATURE = "\n\n{LocationName}\n{LocationPhone}\n"
CORE_EVENTS = (
    EmailEvent(
        "APPOINTMENT_BOOKED",
        "An appointment was booked.",
        "BOOKED",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Your appointment at {LocationName} is booked",
                "Hello {ClientFirstName},\n\nyour appointment is booked:\n\n{ServiceName} with {CalendarName}\n{AppointmentStartDateTime}"
                + _SIGNATURE,
            ),
            DefaultTemplate(
                STAFF,
                "New appointment: {ClientFullName}, {AppointmentStartDateTime}",
                "{ClientFullName} ({ClientMobilePhone}, {ClientEmail}) booked {ServiceName} with {CalendarName} for {AppointmentStartDateTime}.\n",
            ),
        ),
    ),
    EmailEvent(
        "APPOINTMENT_CONFIRMED",
        "An appointment was confirmed.",
        "CONFIRMED",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Your appointment at {LocationName} is confirmed",
                "Hello {ClientFirstName},\n\nthank you, your appointment is confirmed:\n\n{ServiceName} with {CalendarName}\n{AppointmentStartDateTime}"
                + _SIGNATURE,
            ),
            DefaultTemplate(
                STAFF,
                "Confirmed: {ClientFullName}, {AppointmentStartDateTime}",
                "{ClientFullName} ({ClientMobilePhone}) confirmed {ServiceName} with {CalendarName} for {AppointmentStartDateTime}.\n",
            ),
        ),
    ),
    EmailEvent(
        "APPOINTMENT_RESCHEDULED",
        "An appointment was moved to another time.",
        "RESCHEDULED",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Your appointment at {LocationName} has moved",
                "Hello {ClientFirstName},\n\nyour appointment has moved to a new time:\n\n{ServiceName} with {CalendarName}\n{AppointmentStartDateTime}"
                + _SIGNATURE,
            ),
            DefaultTemplate(
                STAFF,
                "Moved: {ClientFullName}, now {AppointmentStartDateTime}",
                "{ClientFullName} ({ClientMobilePhone}) moved {ServiceName} with {CalendarName} to {AppointmentStartDateTime}.\n",
            ),
        ),
    ),
    EmailEvent(
        "APPOINTMENT_CANCELLED",
        "An appointment was cancelled.",
        "CANCELLED",
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Your appointment at {LocationName} is cancelled",
                "Hello {ClientFirstName},\n\nyour appointment has been cancelled:\n\n{ServiceName} with {CalendarName}\n{AppointmentStartDateTime}\n\nReason: {CancellationReason}\n{CancellationNote}"
                + _SIGNATURE,
            ),
            DefaultTemplate(
                STAFF,
                "Cancelled: {ClientFullName}, {AppointmentStartDateTime}",
                "{ClientFullName} ({ClientMobilePhone}) cancelled {ServiceName} with {CalendarName} on {AppointmentStartDateTime}.\nReason: {CancellationReason}\n{CancellationNote}\n",
            ),
        ),
    ),
    EmailEvent(
        "APPOINTMENT_REMINDER",
        "An appointment is coming up (sent at the location's reminder offsets).",
        None,
        defaults=(
            DefaultTemplate(
                CUSTOMER,
                "Reminder: your appointment at {LocationName}",
                "Hello {ClientFirstName},\n\na reminder of your appointment:\n\n{ServiceName} with {CalendarName}\n{AppointmentStartDateTime}"
                + _SIGNATURE,
            ),
        ),
    ),
)

CORE_PLACEHOLDERS = (
    Placeholder("ClientFullName", "The customer's first and last name."),
    Placeholder("ClientFirstName", "The customer's first name."),
    Placeholder("ClientMobilePhone", "The customer's mobile phone number.", frozenset({STAFF})),
    Placeholder("ClientEmail", "The customer's email address.", frozenset({STAFF})),
    Placeholder(
        "AppointmentStartDateTime",
        "When the appointment starts, in the location's time and language, naming the zone (e.g. 10:00 AM BST).",
    ),
    Placeholder(
        "AppointmentEndDateTime", "When the appointment ends, in the location's time and language, naming the zone."
    ),
    Placeholder(
        "NextAppointmentStartDateTime",
        "When the customer's next upcoming appointment at the location starts, naming the zone.",
    ),
    Placeholder("ServiceName", "The booked service."),
    Placeholder("CalendarName", "The calendar (staff member or resource) of the appointment."),
    Placeholder("LocationName", "The location's name."),
    Placeholder("LocationPhone", "The location's contact phone."),
    Placeholder("CancellationReason", "The reason given for a cancellation."),
    Placeholder("CancellationNote", "The note left with a cancellation."),
)


def core_registry() -> EmailRegistry:
    """A registry holding the core's events and placeholders."""
    registry = EmailRegistry()
    for event in CORE_EVENTS:
        registry.add_event(event)
    for placeholder in CORE_PLACEHOLDERS:
        registry.add_placeholder(placeholder)
    return registry


def placeholders_in(text: str) -> list[str]:
    """The placeholder names used in a text, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER_RE.findall(text.replace("{{", "").replace("}}", ""))))


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each `{Name}` with its value (unknown names render empty); `{{` and `}}` are literal braces."""
    parts = text.split("{{")
    filled = [PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), ""), part.replace("}}", "\0")) for part in parts]
    return "{".join(filled).replace("\0", "}")
