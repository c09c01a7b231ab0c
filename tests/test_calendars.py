"""Calendars through GraphQL: details, listing by name, the weekly roster and dated exceptions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from helpers import book, make_clinic

from core import clock

CREATE_LOCATION = """
mutation($input: CreateLocationInput!) { createLocation(input: $input) { ... on Location { id } } }"""

CALENDAR_FIELDS = """
fragment CalendarFields on Calendar { id name ownerName ownerEmail ownerPhone location { id } }"""

CREATE = (
    """
mutation($input: CreateCalendarInput!) {
  createCalendar(input: $input) {
    __typename ...CalendarFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + CALENDAR_FIELDS
)

UPDATE = (
    """
mutation($id: ID!, $input: UpdateCalendarInput!) {
  updateCalendar(id: $id, input: $input) {
    __typename ...CalendarFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + CALENDAR_FIELDS
)

CALENDAR = (
    """
query($id: ID!, $from: Date) {
  calendar(id: $id) {
    __typename
    ...CalendarFields
    ... on Calendar {
      roster { weekday start end }
      exceptions(from: $from) { id date kind start end note }
    }
    ... on NotFound { message }
  }
}"""
    + CALENDAR_FIELDS
)

CALENDARS = """
query($locationId: ID!, $first: Int, $after: String) {
  calendars(locationId: $locationId, first: $first, after: $after) {
    __typename
    ... on CalendarConnection {
      edges { cursor node { id name } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""

SET_ROSTER = """
mutation($calendarId: ID!, $rules: [RosterIntervalInput!]!) {
  setRoster(calendarId: $calendarId, rules: $rules) {
    __typename
    ... on Calendar { id roster { weekday start end } }
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""

ADD_EXCEPTION = """
mutation($input: CalendarExceptionInput!) {
  addCalendarException(input: $input) {
    __typename
    ... on CalendarException { id date kind start end note }
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""

REMOVE_EXCEPTION = """
mutation($id: ID!, $from: Date) {
  removeCalendarException(id: $id) {
    __typename
    ... on Calendar { id exceptions(from: $from) { id date } }
    ... on NotFound { message }
  }
}"""


async def new_location(api, name: str = "Clinic") -> str:
    values = {"name": name, "timezone": "Europe/London", "currency": "GBP"}
    return (await api.data(CREATE_LOCATION, {"input": values}))["createLocation"]["id"]


async def create(api, location_id: str, **fields) -> dict:
    values = {"locationId": location_id, "name": "Dr Smith", **fields}
    return (await api.data(CREATE, {"input": values}))["createCalendar"]


async def read(api, calendar_id: str, date_from: str | None = None) -> dict:
    return (await api.data(CALENDAR, {"id": calendar_id, "from": date_from}))["calendar"]


async def set_roster(api, calendar_id: str, *rules: tuple[str, str, str]) -> dict:
    variables = {"calendarId": calendar_id, "rules": [{"weekday": d, "start": s, "end": e} for d, s, e in rules]}
    return (await api.data(SET_ROSTER, variables))["setRoster"]


async def add_exception(api, calendar_id: str, date: str, kind: str, **fields) -> dict:
    values = {"calendarId": calendar_id, "date": date, "kind": kind, **fields}
    return (await api.data(ADD_EXCEPTION, {"input": values}))["addCalendarException"]


def interval(weekday: str, start: str, end: str) -> dict:
    return {"weekday": weekday, "start": start, "end": end}


async def test_create_read_and_update_calendar(api):
    location_id = await new_location(api)
    created = await create(
        api,
        location_id,
        name="  Dr Jones ",
        ownerName="Ann Jones",
        ownerEmail="ann@clinic.example",
        ownerPhone="+44 20 7946 0000",
    )
    assert created["__typename"] == "Calendar"
    assert created["name"] == "Dr Jones"  # trimmed
    assert (created["ownerName"], created["ownerEmail"], created["ownerPhone"]) == (
        "Ann Jones",
        "ann@clinic.example",
        "+44 20 7946 0000",
    )
    assert created["location"] == {"id": location_id}

    read_back = await read(api, created["id"])
    assert {k: read_back[k] for k in created} == created
    assert read_back["roster"] == [] and read_back["exceptions"] == []

    updated = (await api.data(UPDATE, {"id": created["id"], "input": {"name": "Room 2", "ownerEmail": ""}}))[
        "updateCalendar"
    ]
    assert (updated["name"], updated["ownerEmail"]) == ("Room 2", "")
    assert (updated["ownerName"], updated["ownerPhone"]) == ("Ann Jones", "+44 20 7946 0000")  # not given: unchanged
    assert (await read(api, created["id"]))["name"] == "Room 2"


async def test_bad_calendar_input_is_refused_and_changes_nothing(api):
    location_id = await new_location(api)
    for fields, bad_field in (
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"ownerEmail": "not-an-email"}, "ownerEmail"),
        ({"ownerPhone": "call me"}, "ownerPhone"),
        ({"name": "x" * 201}, "name"),
    ):
        result = await create(api, location_id, **fields)
        assert result["__typename"] == "ValidationError", (fields, result)
        assert result["field"] == bad_field
    listing = (await api.data(CALENDARS, {"locationId": location_id}))["calendars"]
    assert listing["edges"] == []

    calendar = await create(api, location_id, ownerEmail="owner@clinic.example")
    for changes, bad_field in (
        ({"ownerEmail": "owner@"}, "ownerEmail"),
        ({"name": "Fine", "ownerEmail": "no at sign"}, "ownerEmail"),
        ({"name": None}, "name"),
        ({"name": "  "}, "name"),
    ):
        refused = (await api.data(UPDATE, {"id": calendar["id"], "input": changes}))["updateCalendar"]
        assert refused["__typename"] == "ValidationError", (changes, refused)
        assert refused["field"] == bad_field
    after = await read(api, calendar["id"])
    assert (after["name"], after["ownerEmail"]) == ("Dr Smith", "owner@clinic.example")


async def test_calendars_are_listed_by_name_in_pages(api):
    location_id = await new_location(api)
    other_location = await new_location(api, "Elsewhere")
    for name in ("Delta", "Alpha", "Echo", "Charlie", "Bravo"):
        await create(api, location_id, name=name)
    await create(api, other_location, name="Aardvark")

    pages, after = [], None
    for _ in range(3):
        page = (await api.data(CALENDARS, {"locationId": location_id, "first": 2, "after": after}))["calendars"]
        assert page["__typename"] == "CalendarConnection"
        pages.append([edge["node"]["name"] for edge in page["edges"]])
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        assert page["pageInfo"]["hasNextPage"] is (len(pages) < 3)
        after = page["pageInfo"]["endCursor"]
    assert pages == [["Alpha", "Bravo"], ["Charlie", "Delta"], ["Echo"]]

    for variables, bad_field in (({"after": "garbage"}, "after"), ({"first": 0}, "first"), ({"first": 101}, "first")):
        refused = (await api.data(CALENDARS, {"locationId": location_id, **variables}))["calendars"]
        assert refused["__typename"] == "ValidationError" and refused["field"] == bad_field, (variables, refused)


async def test_unknown_ids_are_not_found(api):
    location_id = await new_location(api)
    calendar = await create(api, location_id)
    for unknown in ("999999", "abc", "-1", "0"):
        assert (await read(api, unknown))["__typename"] == "NotFound"
        assert (await api.data(UPDATE, {"id": unknown, "input": {"name": "x"}}))["updateCalendar"][
            "__typename"
        ] == "NotFound"
        assert (await set_roster(api, unknown, ("MONDAY", "09:00", "17:00")))["__typename"] == "NotFound"
        assert (await add_exception(api, unknown, "2030-01-07", "TIME_OFF"))["__typename"] == "NotFound"
        removed = (await api.data(REMOVE_EXCEPTION, {"id": unknown}))["removeCalendarException"]
        assert removed["__typename"] == "NotFound"
        assert (await create(api, unknown))["__typename"] == "NotFound"
        assert (await api.data(CALENDARS, {"locationId": unknown}))["calendars"]["__typename"] == "NotFound"
    assert (await read(api, calendar["id"]))["roster"] == []


async def test_roster_with_several_intervals_per_weekday_reads_back_ordered(api):
    calendar = await create(api, await new_location(api))
    week = [
        interval("WEDNESDAY", "18:00", "24:00"),
        interval("MONDAY", "13:00", "17:00"),
        interval("TUESDAY", "12:00", "13:00"),
        interval("MONDAY", "09:00", "12:00"),
        interval("TUESDAY", "09:00", "12:00"),  # touches 12:00-13:00: allowed
        interval("SUNDAY", "00:00", "24:00"),
    ]
    ordered = [
        interval("MONDAY", "09:00", "12:00"),
        interval("MONDAY", "13:00", "17:00"),
        interval("TUESDAY", "09:00", "12:00"),
        interval("TUESDAY", "12:00", "13:00"),
        interval("WEDNESDAY", "18:00", "24:00"),
        interval("SUNDAY", "00:00", "24:00"),
    ]
    result = (await api.data(SET_ROSTER, {"calendarId": calendar["id"], "rules": week}))["setRoster"]
    assert result["__typename"] == "Calendar"
    assert result["roster"] == ordered
    assert (await read(api, calendar["id"]))["roster"] == ordered

    # A new roster replaces the old one; an empty one clears it.
    replaced = await set_roster(api, calendar["id"], ("FRIDAY", "08:30", "12:15"))
    assert replaced["roster"] == [interval("FRIDAY", "08:30", "12:15")]
    assert (await read(api, calendar["id"]))["roster"] == [interval("FRIDAY", "08:30", "12:15")]
    assert (await set_roster(api, calendar["id"]))["roster"] == []
    assert (await read(api, calendar["id"]))["roster"] == []


async def test_refused_roster_names_the_interval_and_keeps_the_previous_roster(api):
    calendar = await create(api, await new_location(api))
    good = [("MONDAY", "09:00", "12:00"), ("MONDAY", "13:00", "17:00")]
    before = (await set_roster(api, calendar["id"], *good))["roster"]
    monday_morning = ("MONDAY", "09:00", "12:00")
    for rules, bad_field in (
        ([monday_morning, ("MONDAY", "11:00", "14:00")], "rules[1]"),  # overlaps the morning
        ([monday_morning, ("MONDAY", "22:00", "02:00"), ("MONDAY", "23:00", "23:30")], "rules[2]"),  # inside the night
        ([("MONDAY", "08:00", "08:00"), ("MONDAY", "20:00", "22:00")], "rules[1]"),  # inside the 24 hours
        ([("MONDAY", "11:00", "14:00"), monday_morning], "rules[0]"),  # the later-starting one is named
        ([("MONDAY", "09:00", "17:00"), ("TUESDAY", "09:00", "10:00"), ("MONDAY", "10:00", "11:00")], "rules[2]"),
        ([monday_morning, ("MONDAY", "09:00", "12:00")], "rules[1]"),  # the same interval twice
        ([monday_morning, ("TUESDAY", "9am", "12:00")], "rules[1].start"),
        ([("TUESDAY", "9:00", "12:00")], "rules[0].start"),
        ([monday_morning, ("TUESDAY", "09:00", "25:00")], "rules[1].end"),
        ([monday_morning, ("TUESDAY", "09:00", "12:60")], "rules[1].end"),
        ([monday_morning, ("TUESDAY", "09:00", "24:01")], "rules[1].end"),
        ([monday_morning, ("TUESDAY", "", "12:00")], "rules[1].start"),
        ([monday_morning, ("TUESDAY", "24:00", "24:00")], "rules[1].start"),  # a window starts before 24:00
        ([monday_morning, ("TUESDAY", "24:00", "02:00")], "rules[1].start"),
    ):
        refused = await set_roster(api, calendar["id"], *rules)
        assert refused["__typename"] == "ValidationError", (rules, refused)
        assert refused["field"] == bad_field, (rules, refused)
        assert (await read(api, calendar["id"]))["roster"] == before, rules
    assert before == [interval(*rule) for rule in good]


async def test_exceptions_whole_day_time_off_and_extra_hours(api):
    calendar = await create(api, await new_location(api))
    day_off = await add_exception(api, calendar["id"], "2030-05-06", "TIME_OFF", note="Bank holiday")
    assert day_off["__typename"] == "CalendarException"
    assert {k: day_off[k] for k in ("date", "kind", "start", "end", "note")} == {
        "date": "2030-05-06",
        "kind": "TIME_OFF",
        "start": "00:00",
        "end": "24:00",
        "note": "Bank holiday",
    }
    extra = await add_exception(api, calendar["id"], "2030-05-04", "EXTRA_HOURS", start="10:00", end="14:00")
    assert (extra["kind"], extra["start"], extra["end"], extra["note"]) == ("EXTRA_HOURS", "10:00", "14:00", "")
    lunch = await add_exception(api, calendar["id"], "2030-05-07", "TIME_OFF", start="12:00", end="13:00")
    late = await add_exception(api, calendar["id"], "2030-05-07", "EXTRA_HOURS", start="20:00", end="24:00")
    assert (late["start"], late["end"]) == ("20:00", "24:00")

    listed = (await read(api, calendar["id"], "2030-05-01"))["exceptions"]
    assert [(e["id"], e["date"]) for e in listed] == [
        (extra["id"], "2030-05-04"),
        (day_off["id"], "2030-05-06"),
        (lunch["id"], "2030-05-07"),
        (late["id"], "2030-05-07"),
    ]
    assert {"__typename": "CalendarException", **listed[1]} == day_off
    # `from` is inclusive, and the window reaches a year ahead.
    assert [e["id"] for e in (await read(api, calendar["id"], "2030-05-06"))["exceptions"]] == [
        day_off["id"],
        lunch["id"],
        late["id"],
    ]
    assert (await read(api, calendar["id"], "2030-05-08"))["exceptions"] == []
    assert [e["id"] for e in (await read(api, calendar["id"], "2029-05-04"))["exceptions"]] == [extra["id"]]
    assert (await read(api, calendar["id"], "2029-05-01"))["exceptions"] == []


async def test_exception_times_are_checked(api):
    calendar = await create(api, await new_location(api))
    for kind, times, bad_field in (
        ("EXTRA_HOURS", {}, "start"),  # extra hours need times
        ("EXTRA_HOURS", {"start": "10:00"}, "end"),
        ("TIME_OFF", {"start": "10:00"}, "end"),
        ("TIME_OFF", {"end": "12:00"}, "start"),
        ("TIME_OFF", {"start": "12:00", "end": "10:00"}, "end"),
        ("EXTRA_HOURS", {"start": "10:00", "end": "10:00"}, "end"),
        ("EXTRA_HOURS", {"start": "9am", "end": "12:00"}, "start"),
        ("EXTRA_HOURS", {"start": "10:00", "end": "25:00"}, "end"),
        ("TIME_OFF", {"start": "10:00", "end": "12:60"}, "end"),
    ):
        refused = await add_exception(api, calendar["id"], "2030-05-06", kind, **times)
        assert refused["__typename"] == "ValidationError", (kind, times, refused)
        assert refused["field"] == bad_field, (kind, times, refused)
    assert (await read(api, calendar["id"], "2030-01-01"))["exceptions"] == []


async def test_remove_calendar_exception(api):
    calendar = await create(api, await new_location(api))
    first = await add_exception(api, calendar["id"], "2030-05-06", "TIME_OFF")
    second = await add_exception(api, calendar["id"], "2030-05-07", "TIME_OFF")

    removed = (await api.data(REMOVE_EXCEPTION, {"id": first["id"], "from": "2030-01-01"}))["removeCalendarException"]
    assert removed["__typename"] == "Calendar" and removed["id"] == calendar["id"]
    assert removed["exceptions"] == [{"id": second["id"], "date": "2030-05-07"}]
    assert [e["id"] for e in (await read(api, calendar["id"], "2030-01-01"))["exceptions"]] == [second["id"]]

    again = (await api.data(REMOVE_EXCEPTION, {"id": first["id"]}))["removeCalendarException"]
    assert again["__typename"] == "NotFound"
    assert [e["id"] for e in (await read(api, calendar["id"], "2030-01-01"))["exceptions"]] == [second["id"]]


# ------------------------------------------------------------------ night rosters

SLOTS = """query($c: ID!, $s: ID!, $f: DateTime!, $t: DateTime!) { availableSlots(calendarId: $c, serviceId: $s, from: $f, to: $t) {
  __typename ... on SlotList { slots { start end } } } }"""
LONDON = ZoneInfo("Europe/London")
NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)  # before every date below, through the clock seam


def london(day: str, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=LONDON)


async def slots(api, clinic, start: dt.datetime, end: dt.datetime) -> list[dict]:
    found = await api.data(
        SLOTS, {"c": clinic.calendar, "s": clinic.service, "f": start.isoformat(), "t": end.isoformat()}
    )
    assert found["availableSlots"]["__typename"] == "SlotList", found
    return found["availableSlots"]["slots"]


def quarter_hours(first: dt.datetime, last: dt.datetime, step: int = 15) -> list[str]:
    times = []
    while first <= last:
        times.append(first.isoformat())
        first += dt.timedelta(minutes=step)
    return times


async def test_night_windows_are_saved_and_read_back(api):
    calendar = await create(api, await new_location(api))
    week = [
        interval("MONDAY", "22:00", "02:00"),  # ends on Tuesday
        interval("TUESDAY", "01:00", "05:00"),  # overlaps Monday's night: the windows merge
        interval("MONDAY", "09:00", "17:00"),
        interval("SUNDAY", "08:00", "08:00"),  # 24 hours, to Monday 08:00
        interval("FRIDAY", "00:00", "00:00"),  # the whole of Friday
    ]
    result = (await api.data(SET_ROSTER, {"calendarId": calendar["id"], "rules": week}))["setRoster"]
    assert result["__typename"] == "Calendar", result
    ordered = [week[2], week[0], week[1], week[4], week[3]]
    assert result["roster"] == ordered
    assert (await read(api, calendar["id"]))["roster"] == ordered


async def test_a_night_window_offers_and_books_slots_across_midnight(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    clinic = await make_clinic(
        api, roster=[{"weekday": "MONDAY", "start": "22:00", "end": "02:00"}], duration=30, step=15
    )
    monday, tuesday = "2027-03-08", "2027-03-09"
    found = await slots(api, clinic, london(monday, "18:00"), london(tuesday, "12:00"))
    assert [s["start"] for s in found] == quarter_hours(london(monday, "22:00"), london(tuesday, "01:30"))
    assert {"start": london(monday, "23:45").isoformat(), "end": london(tuesday, "00:15").isoformat()} in found
    # Asked from Tuesday 00:00, Monday's window still counts.
    from_midnight = await slots(api, clinic, london(tuesday, "00:00"), london(tuesday, "12:00"))
    assert [s["start"] for s in from_midnight] == quarter_hours(london(tuesday, "00:00"), london(tuesday, "01:30"))

    booked = await book(api, clinic, london(monday, "23:45"))
    assert booked["__typename"] == "Appointment", booked
    assert (booked["startsAt"], booked["endsAt"]) == ("2027-03-08T23:45:00+00:00", "2027-03-09T00:15:00+00:00")
    assert (await book(api, clinic, london(monday, "23:50")))["__typename"] == "ValidationError"  # off the grid

    # Time off on Tuesday 00:30-01:30 takes that hour out of Monday's night.
    await add_exception(api, clinic.calendar, tuesday, "TIME_OFF", start="00:30", end="01:30")
    left = await slots(api, clinic, london(monday, "18:00"), london(tuesday, "12:00"))
    assert [s["start"] for s in left] == [
        *quarter_hours(london(monday, "22:00"), london(monday, "23:15")),
        london(tuesday, "01:30").isoformat(),
    ]
    assert (await book(api, clinic, london(tuesday, "01:00")))["__typename"] == "SlotUnavailable"
    assert (await book(api, clinic, london(tuesday, "01:30")))["__typename"] == "Appointment"


async def test_windows_of_neighbouring_days_that_touch_join_across_midnight(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    roster = [
        {"weekday": "MONDAY", "start": "22:00", "end": "24:00"},
        {"weekday": "TUESDAY", "start": "00:00", "end": "02:00"},
    ]
    clinic = await make_clinic(api, roster=roster, duration=30, step=15)
    found = await slots(api, clinic, london("2027-03-08", "18:00"), london("2027-03-09", "12:00"))
    assert [s["start"] for s in found] == quarter_hours(london("2027-03-08", "22:00"), london("2027-03-09", "01:30"))
    assert (await book(api, clinic, london("2027-03-08", "23:45")))["__typename"] == "Appointment"


async def test_a_daylight_saving_night_steps_in_real_time(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    # Europe/London, Saturday 27 March 2027 22:00 GMT to Sunday 04:00 BST: at 01:00 GMT the clock jumps to 02:00 BST.
    clinic = await make_clinic(
        api, roster=[{"weekday": "SATURDAY", "start": "22:00", "end": "04:00"}], duration=60, step=30
    )
    found = await slots(api, clinic, london("2027-03-27", "12:00"), london("2027-03-28", "12:00"))
    assert [s["start"] for s in found] == [
        "2027-03-27T22:00:00+00:00",
        "2027-03-27T22:30:00+00:00",
        "2027-03-27T23:00:00+00:00",
        "2027-03-27T23:30:00+00:00",
        "2027-03-28T00:00:00+00:00",
        "2027-03-28T00:30:00+00:00",
        "2027-03-28T02:00:00+01:00",
        "2027-03-28T02:30:00+01:00",
        "2027-03-28T03:00:00+01:00",
    ]
    # 00:30 GMT for an hour ends at 02:30 BST: the slot spans midnight and the gap.
    assert found[5] == {"start": "2027-03-28T00:30:00+00:00", "end": "2027-03-28T02:30:00+01:00"}
    booked = await book(api, clinic, dt.datetime(2027, 3, 28, 0, 30, tzinfo=dt.UTC))
    assert (booked["__typename"], booked["endsAt"]) == ("Appointment", "2027-03-28T02:30:00+01:00")
    assert (await book(api, clinic, london("2027-03-28", "03:30")))[
        "__typename"
    ] == "SlotUnavailable"  # ends after 04:00
