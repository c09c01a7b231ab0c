"""Building blocks for tests: a clinic created through the API, times on its slot grid."""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core import hookimpl
from core.plugins.types import PluginInfo

ALL_WEEK = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in
            ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")]


async def until(condition, timeout: float = 20.0, what: str = "condition"):
    """Poll a condition (a function, async or not) until it is truthy — something to happen,
    never a time to pass; its value. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Clinic:
    """Ids of a location with one calendar, one service and one customer."""

    location: str
    calendar: str
    service: str
    customer: str
    tz: ZoneInfo


def midday_timezone(now: dt.datetime | None = None) -> str:
    """An Etc/GMT zone where it is now between 08:00 and 14:59 local time, so that an
    appointment later today stays on today's local date."""
    hour = (now or dt.datetime.now(dt.timezone.utc)).hour
    offset = 10 - hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def make_clinic(api, *, timezone: str = "Europe/London", roster=ALL_WEEK, duration: int = 30,
                      buffer: int = 0, step: int = 15, rules: dict | None = None) -> Clinic:
    """A location with a calendar (rostered as given), a service and a customer, via GraphQL."""
    q = api.data
    location = (await q(
        'mutation($tz: String!, $step: Int!) { createLocation(input: {name: "Clinic", timezone: $tz, currency: "EUR", contactPhone: "+44 20 7946 0000", slotStepMinutes: $step}) { ... on Location { id } } }',
        {"tz": timezone, "step": step},
    ))["createLocation"]["id"]
    calendar = (await q('mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Dr Who", ownerEmail: "who@clinic.example"}) { ... on Calendar { id } } }', {"l": location}))["createCalendar"]["id"]
    result = (await q('mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { __typename } }', {"c": calendar, "r": roster}))
    assert result["setRoster"]["__typename"] == "Calendar", result
    service = (await q(
        'mutation($l: ID!, $c: ID!, $d: Int!, $b: Int!) { createService(input: {locationId: $l, name: "Checkup", durationMinutes: $d, bufferAfterMinutes: $b, calendarIds: [$c]}) { ... on Service { id } } }',
        {"l": location, "c": calendar, "d": duration, "b": buffer},
    ))["createService"]["id"]
    customer = (await q('mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "Ada", lastName: "Lovelace", email: "ada@example.com", mobilePhone: "+44 7700 900123"}) { ... on Customer { id } } }', {"l": location}))["createCustomer"]["id"]
    if rules:
        changed = await q('mutation($l: ID!, $i: SchedulingRulesInput!) { updateLocationRules(locationId: $l, input: $i) { __typename ... on ValidationError { field message } } }', {"l": location, "i": rules})
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

BOOK = "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!, $o: Boolean! = false) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}, override: $o) { %s } }" % APPOINTMENT_FIELDS


async def book(api, clinic: Clinic, start: dt.datetime, override: bool = False, token: str | None = "owner") -> dict:
    """Book the clinic's service for its customer at `start` through GraphQL; the result union."""
    variables = {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": start.isoformat(), "o": override}
    return (await api.data(BOOK, variables, token=token))["bookAppointment"]


class _StatementLog(logging.Handler):
    """Keeps the SQL statements tortoise's database client logs (every one it sends, on SQLite and
    on PostgreSQL alike; transaction control is not logged)."""

    def __init__(self, sent: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sent = sent

    def emit(self, record: logging.LogRecord) -> None:
        statement = str(record.args[0] if record.args else record.msg)  # "%s: %s" % (query, values), or the query
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.sent.append(statement.strip())


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs, in order (without their
    parameters). Stop the delivery worker first (`run_worker=False`): its polls count too."""
    sent: list[str] = []
    logger, handler = logging.getLogger("tortoise.db_client"), _StatementLog(sent)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def throwaway_plugin(name: str, **hooks):
    """A plugin made on the spot: an object with `plugin_info` and the given hook functions."""

    class Plugin:
        pass

    plugin = Plugin()
    plugin.plugin_info = hookimpl(lambda: PluginInfo(name=name, title=name, description="", version="0"))
    for hook, function in hooks.items():
        setattr(plugin, hook, hookimpl(function))
    return plugin
