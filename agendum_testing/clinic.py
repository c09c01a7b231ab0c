"""A clinic made through the GraphQL API (location, calendar with a roster, service, customer),
times on its slot grid, booking, and switching a plugin on at a location."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

ALL_WEEK = [
    {"weekday": day, "start": "00:00", "end": "24:00"}
    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
]


@dataclass
class Clinic:
    """Ids of a location with one calendar, one service and one customer."""

    location: str
    calendar: str
    service: str
    customer: str
    tz: ZoneInfo


async def make_clinic(
    api,
    *,
    timezone: str = "Europe/London",
    roster=ALL_WEEK,
    duration: int = 30,
    buffer: int = 0,
    step: int = 15,
    rules: dict | None = None,
) -> Clinic:
    """A location with a calendar (rostered as given), a service and a customer, via GraphQL."""
    q = api.data
    location = (
        await q(
            'mutation($tz: String!, $step: Int!) { createLocation(input: {name: "Clinic", timezone: $tz, currency: "EUR", contactPhone: "+44 20 7946 0000", slotStepMinutes: $step}) { ... on Location { id } } }',
            {"tz": timezone, "step": step},
        )
    )["createLocation"]["id"]
    calendar = (
        await q(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Dr Who", ownerEmail: "who@clinic.example"}) { ... on Calendar { id } } }',
            {"l": location},
        )
    )["createCalendar"]["id"]
    result = await q(
        "mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { __typename } }",
        {"c": calendar, "r": roster},
    )
    assert result["setRoster"]["__typename"] == "Calendar", result
    service = (
        await q(
            'mutation($l: ID!, $c: ID!, $d: Int!, $b: Int!) { createService(input: {locationId: $l, name: "Checkup", durationMinutes: $d, bufferAfterMinutes: $b, calendarIds: [$c]}) { ... on Service { id } } }',
            {"l": location, "c": calendar, "d": duration, "b": buffer},
        )
    )["createService"]["id"]
    customer = (
        await q(
            'mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "Ada", lastName: "Lovelace", email: "ada@example.com", mobilePhone: "+44 7700 900123"}) { ... on Customer { id } } }',
            {"l": location},
        )
    )["createCustomer"]["id"]
    if rules:
        changed = await q(
            "mutation($l: ID!, $i: SchedulingRulesInput!) { updateLocationRules(locationId: $l, input: $i) { __typename ... on ValidationError { field message } } }",
            {"l": location, "i": rules},
        )
        assert changed["updateLocationRules"]["__typename"] == "Location", changed
    return Clinic(location, calendar, service, customer, ZoneInfo(timezone))


def local(tz: ZoneInfo, days_ahead: int, hour: int, minute: int = 0) -> dt.datetime:
    """A local wall-clock time `days_ahead` days from today at a location, as an aware datetime."""
    day = dt.datetime.now(tz).date() + dt.timedelta(days=days_ahead)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)


def later_today(tz: ZoneInfo, hours: float = 2, step: int = 15) -> dt.datetime:
    """A grid time (on a 00:00-based step) about `hours` from now, local."""
    target = dt.datetime.now(tz) + dt.timedelta(hours=hours)
    minutes = (target.hour * 60 + target.minute) // step * step + step
    midnight = target.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + dt.timedelta(minutes=minutes)


APPOINTMENT_FIELDS = """__typename
  ... on Appointment { id status startsAt endsAt sequence cancellationReason cancellationNote
    history { action actorKind actor changes { field before after } } }
  ... on SlotUnavailable { message }
  ... on RuleViolation { rule message }
  ... on InvalidTransition { status action message }
  ... on StaleAppointment { message currentSequence }
  ... on ValidationError { field message }
  ... on NotFound { message }
  ... on PermissionDenied { message }"""

BOOK = (
    "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!, $o: Boolean! = false) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}, override: $o) { %s } }"
    % APPOINTMENT_FIELDS
)


async def book(api, clinic: Clinic, start: dt.datetime, override: bool = False, token: str | None = "owner") -> dict:
    """Book the clinic's service for its customer at `start` through GraphQL; the result union."""
    variables = {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": start.isoformat(), "o": override}
    return (await api.data(BOOK, variables, token=token))["bookAppointment"]


async def enable_plugin(api, location: str, plugin: str, enabled: bool = True) -> None:
    """Switch `plugin` on (or off) at a location through GraphQL, as the owner."""
    result = await api.data(
        "mutation($l: ID!, $p: String!, $e: Boolean!) { setPluginEnabled(locationIds: [$l], plugin: $p, enabled: $e) { __typename } }",
        {"l": location, "p": plugin, "e": enabled},
    )
    assert result["setPluginEnabled"]["__typename"] == "PluginStateList", result
