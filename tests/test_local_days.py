"""`appointments` and `availableSlots` take local dates (`fromDate`, `toDate`, both inclusive) read
in the location's zone, so an app asks for "this day at this clinic" without computing offsets;
dates or instants, not both."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from helpers import book, make_clinic

LIST = """query($l: ID!, $fd: Date, $td: Date, $f: DateTime, $t: DateTime) {
  appointments(locationId: $l, fromDate: $fd, toDate: $td, from: $f, to: $t) {
    __typename ... on AppointmentConnection { edges { node { startsAt } } } ... on ValidationError { field message } } }"""
SLOTS = """query($c: ID!, $s: ID!, $fd: Date, $td: Date, $f: DateTime, $t: DateTime) {
  availableSlots(calendarId: $c, serviceId: $s, fromDate: $fd, toDate: $td, from: $f, to: $t) {
    __typename ... on SlotList { slots { start end } } ... on ValidationError { field message } } }"""
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: its dates are not UTC's for 14 hours a day


def day_ahead(days: int) -> dt.date:
    return dt.datetime.now(KIRITIMATI).date() + dt.timedelta(days=days)


async def starts(api, location: str, **window) -> list[dt.datetime]:
    variables = {"l": location, **{k: v.isoformat() for k, v in window.items()}}
    result = (await api.data(LIST, variables))["appointments"]
    assert result["__typename"] == "AppointmentConnection", result
    return [dt.datetime.fromisoformat(e["node"]["startsAt"]) for e in result["edges"]]


async def test_appointments_of_local_days_at_a_location_far_from_utc(api):
    clinic = await make_clinic(api, timezone="Pacific/Kiritimati")
    day = day_ahead(3)
    at = {
        name: dt.datetime.combine(day + dt.timedelta(days=shift), dt.time(hour, minute), KIRITIMATI)
        for name, shift, hour, minute in (
            ("eve", -1, 23, 30),
            ("early", 0, 0, 0),
            ("late", 0, 23, 30),
            ("next", 1, 0, 0),
        )
    }
    for start in at.values():
        assert (await book(api, clinic, start))["__typename"] == "Appointment"
    assert await starts(api, clinic.location, fd=day, td=day) == [at["early"], at["late"]]
    assert await starts(api, clinic.location, fd=day, td=day + dt.timedelta(days=1)) == [
        at["early"],
        at["late"],
        at["next"],
    ]
    assert await starts(api, clinic.location, fd=day) == [at["early"], at["late"], at["next"]]  # open-ended
    assert await starts(api, clinic.location, td=day - dt.timedelta(days=1)) == [at["eve"]]
    # The same as the instants of the local midnights.
    midnight = dt.datetime.combine(day, dt.time(0), KIRITIMATI)
    assert await starts(api, clinic.location, f=midnight, t=midnight + dt.timedelta(days=1)) == [
        at["early"],
        at["late"],
    ]


async def test_slots_of_a_local_day_are_that_days_and_match_the_instants(api):
    clinic = await make_clinic(api, timezone="Pacific/Kiritimati", step=60, duration=60)
    day = day_ahead(4)
    by_date = await api.data(
        SLOTS, {"c": clinic.calendar, "s": clinic.service, "fd": day.isoformat(), "td": day.isoformat()}
    )
    slots = by_date["availableSlots"]["slots"]
    assert slots and {dt.datetime.fromisoformat(s["start"]).astimezone(KIRITIMATI).date() for s in slots} == {day}
    midnight = dt.datetime.combine(day, dt.time(0), KIRITIMATI)
    by_instant = await api.data(
        SLOTS,
        {
            "c": clinic.calendar,
            "s": clinic.service,
            "f": midnight.isoformat(),
            "t": (midnight + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert by_instant["availableSlots"]["slots"] == slots


async def test_a_spring_forward_day_is_23_hours_long(api):
    clinic = await make_clinic(api, timezone="Europe/London", step=60, duration=60)
    year = dt.date.today().year + 1
    day = max(
        dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6
    )  # the last Sunday of March
    found = await api.data(
        SLOTS, {"c": clinic.calendar, "s": clinic.service, "fd": day.isoformat(), "td": day.isoformat()}
    )
    slots = found["availableSlots"]["slots"]
    assert (
        len(slots) == 23
        and slots[0]["start"] == f"{day}T00:00:00+00:00"
        and slots[-1]["end"] == f"{day + dt.timedelta(days=1)}T00:00:00+01:00"
    )


async def test_dates_and_instants_are_refused_together_and_a_backward_range_is_refused(api):
    clinic = await make_clinic(api)
    day, now = day_ahead(2), dt.datetime.now(dt.UTC)
    refusals = {
        "both": ({"fd": day, "f": now}, "fromDate"),
        "both, to": ({"td": day, "t": now}, "toDate"),
        "backward": ({"fd": day, "td": day - dt.timedelta(days=1)}, "toDate"),
    }
    for name, (window, field) in refusals.items():
        variables = {"l": clinic.location, **{k: v.isoformat() for k, v in window.items()}}
        result = (await api.data(LIST, variables))["appointments"]
        assert result == {"__typename": "ValidationError", "field": field, "message": result["message"]}, name
        slot_variables = {"c": clinic.calendar, "s": clinic.service, **{k: v.isoformat() for k, v in window.items()}}
        slot_result = (await api.data(SLOTS, slot_variables))["availableSlots"]
        assert slot_result["__typename"] == "ValidationError" and slot_result["field"] == field, (name, slot_result)
    too_long = (
        await api.data(
            SLOTS,
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "fd": day.isoformat(),
                "td": (day + dt.timedelta(days=62)).isoformat(),
            },
        )
    )["availableSlots"]
    assert too_long == {
        "__typename": "ValidationError",
        "field": "toDate",
        "message": "Ask for at most 62 days at a time.",
    }
    open_ended = (await api.data(SLOTS, {"c": clinic.calendar, "s": clinic.service, "fd": day.isoformat()}))[
        "availableSlots"
    ]
    assert open_ended["__typename"] == "ValidationError" and open_ended["field"] == "toDate"
    nothing = (await api.data(SLOTS, {"c": clinic.calendar, "s": clinic.service}))["availableSlots"]
    assert nothing["__typename"] == "ValidationError" and nothing["field"] == "from"
    far = (await api.data(LIST, {"l": clinic.location, "td": "9999-12-31"}))["appointments"]
    assert far["__typename"] == "ValidationError" and far["field"] == "toDate"
