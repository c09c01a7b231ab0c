"""`availability`: free slots of several services on several calendars of a location in one call
(a 4x4 grid needed 16 aliases, over the limit of 15), each entry the same as `availableSlots`
gives for its pair, priced together against the staff budget before any work."""

from __future__ import annotations

import datetime as dt

from helpers import ALL_WEEK, Clinic, book, make_clinic

GRID = """query($l: ID!, $s: [ID!]!, $c: [ID!], $fd: Date, $td: Date, $f: DateTime, $t: DateTime) {
  availability(locationId: $l, serviceIds: $s, calendarIds: $c, fromDate: $fd, toDate: $td, from: $f, to: $t) {
    __typename
    ... on Availability { entries { calendar { id name } service { id name } slots { start end } } }
    ... on ValidationError { field message } ... on NotFound { message } ... on QueryTooCostly { cost budget } } }"""
SLOTS = """query($c: ID!, $s: ID!, $fd: Date, $td: Date) {
  availableSlots(calendarId: $c, serviceId: $s, fromDate: $fd, toDate: $td) { ... on SlotList { slots { start end } } } }"""
CALENDAR = 'mutation($l: ID!, $n: String!) { createCalendar(input: {locationId: $l, name: $n, ownerEmail: "x@clinic.example"}) { ... on Calendar { id } } }'
ROSTER = "mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { __typename } }"
SERVICE = """mutation($l: ID!, $n: String!, $d: Int!, $c: [ID!]!) {
  createService(input: {locationId: $l, name: $n, durationMinutes: $d, calendarIds: $c}) { ... on Service { id } } }"""


async def grid(api, clinic: Clinic, calendars: int, services: int) -> tuple[list[str], list[str]]:
    """The clinic's calendar and service plus more, every service on every calendar; (calendar ids, service ids)."""
    calendar_ids = [clinic.calendar]
    for i in range(calendars - 1):
        calendar = (await api.data(CALENDAR, {"l": clinic.location, "n": f"Room {i + 2}"}))["createCalendar"]["id"]
        await api.data(
            ROSTER,
            {"c": calendar, "r": [{"weekday": r["weekday"], "start": "09:00", "end": "13:00"} for r in ALL_WEEK]},
        )
        calendar_ids.append(calendar)
    service_ids = [
        (await api.data(SERVICE, {"l": clinic.location, "n": f"Service {i}", "d": 30 * (i + 1), "c": calendar_ids}))[
            "createService"
        ]["id"]
        for i in range(services)
    ]
    return calendar_ids, service_ids


def tomorrow(clinic: Clinic) -> str:
    return (dt.datetime.now(clinic.tz).date() + dt.timedelta(days=2)).isoformat()


async def test_a_four_by_four_grid_in_one_call_matches_available_slots_pair_by_pair(api):
    clinic = await make_clinic(api, step=60)
    calendars, services = await grid(api, clinic, 4, 4)
    day = tomorrow(clinic)
    booked = await book(api, clinic, dt.datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=clinic.tz))
    assert booked["__typename"] == "Appointment"
    found = (await api.data(GRID, {"l": clinic.location, "s": services, "fd": day, "td": day}))["availability"]
    assert found["__typename"] == "Availability"
    pairs = [(e["calendar"]["id"], e["service"]["id"]) for e in found["entries"]]
    assert pairs == [(c, s) for c in sorted(calendars, key=int) for s in services]
    for entry in found["entries"]:
        alone = await api.data(SLOTS, {"c": entry["calendar"]["id"], "s": entry["service"]["id"], "fd": day, "td": day})
        assert entry["slots"] == alone["availableSlots"]["slots"] and entry["slots"], entry["calendar"]
    first = found["entries"][0]
    assert first["calendar"]["id"] == clinic.calendar and f"{day}T10:00:00" not in str(
        first["slots"]
    )  # the booking's hour is taken


async def test_only_calendars_that_provide_a_service_and_those_asked_for(api):
    clinic = await make_clinic(api, step=60)
    calendars, services = await grid(api, clinic, 2, 1)
    loner = (await api.data(CALENDAR, {"l": clinic.location, "n": "No services"}))["createCalendar"]["id"]
    only_second = (await api.data(SERVICE, {"l": clinic.location, "n": "Only there", "d": 30, "c": [calendars[1]]}))[
        "createService"
    ]["id"]
    day = tomorrow(clinic)
    everything = (await api.data(GRID, {"l": clinic.location, "s": [only_second, services[0]], "fd": day, "td": day}))[
        "availability"
    ]
    assert [(e["calendar"]["id"], e["service"]["id"]) for e in everything["entries"]] == [
        (calendars[0], services[0]),
        (calendars[1], only_second),
        (calendars[1], services[0]),
    ]
    chosen = (
        await api.data(
            GRID,
            {"l": clinic.location, "s": [only_second, services[0]], "c": [calendars[0], loner], "fd": day, "td": day},
        )
    )["availability"]
    assert [(e["calendar"]["id"], e["service"]["id"]) for e in chosen["entries"]] == [(calendars[0], services[0])]


async def test_refusals_change_nothing_and_say_why(api):
    clinic, other = await make_clinic(api), await make_clinic(api)
    day = tomorrow(clinic)

    async def ask(**variables) -> dict:
        return (await api.data(GRID, {"l": clinic.location, "s": [clinic.service], "fd": day, "td": day, **variables}))[
            "availability"
        ]

    assert (await ask(s=[]))["field"] == "serviceIds"
    assert (await ask(s=[other.service]))["__typename"] == "NotFound"
    assert (await ask(c=[other.calendar]))["__typename"] == "NotFound"
    assert (await ask(f=f"{day}T00:00:00+00:00"))["field"] == "fromDate"
    assert (await ask(fd=None, td=None))["field"] == "from"
    assert (await ask(td=(dt.date.fromisoformat(day) + dt.timedelta(days=62)).isoformat()))["field"] == "toDate"
    anonymous = (await api.data(GRID, {"l": clinic.location, "s": [clinic.service], "fd": day, "td": day}, token=None))[
        "availability"
    ]
    assert anonymous["__typename"] == "PermissionDenied"


async def test_the_whole_grid_is_priced_before_any_work(api_factory):
    api = await api_factory(staff_slot_budget=500)
    clinic = await make_clinic(api, step=15)
    calendars, services = await grid(api, clinic, 4, 4)
    day = dt.date.fromisoformat(tomorrow(clinic))
    one = (
        await api.data(
            GRID,
            {"l": clinic.location, "s": services[:1], "c": calendars[:1], "fd": day.isoformat(), "td": day.isoformat()},
        )
    )["availability"]
    assert one["__typename"] == "Availability"
    month = (
        await api.data(
            GRID,
            {
                "l": clinic.location,
                "s": services,
                "fd": day.isoformat(),
                "td": (day + dt.timedelta(days=30)).isoformat(),
            },
        )
    )["availability"]
    assert month["__typename"] == "QueryTooCostly" and month["cost"] > month["budget"] == 500
