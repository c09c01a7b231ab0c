"""Instants reach the database in UTC, whatever offset they were written in: SQLite compares its
stored text, so a window, an expiry or a due time in another offset would otherwise find other
rows than on PostgreSQL. Every answer here is checked against the instants themselves, so both
databases must give the same rows."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import inspect
import json

import pytest
from helpers import book, local, make_clinic
from hypothesis import HealthCheck, example, given, settings, strategies as st
from tortoise.fields import DatetimeField as TortoiseDatetimeField
from tortoise.models import Model

from app import BUILTIN_PLUGINS
from core import clock, sql
from core.email import outbox
from core.instants import DatetimeField
from core.models import DeliveryStatus, Location, OutboxMessage, RecipientRole
from core.plugins.host import PluginHost

UTC = dt.UTC
# Local (days after the chosen day, hour, minute) of the appointments: evenings and early
# mornings, where comparing local text instead of instants moves an appointment across a day.
TIMES = [
    (-1, 18, 0),
    (-1, 22, 0),
    (-1, 23, 30),
    (0, 0, 0),
    (0, 0, 45),
    (0, 9, 0),
    (0, 10, 30),
    (0, 13, 0),
    (0, 19, 15),
    (0, 23, 30),
    (1, 0, 0),
    (1, 1, 15),
    (1, 11, 0),
]
DAYS_AHEAD = 10
WINDOW = """query($l: ID!, $f: DateTime, $t: DateTime) { appointments(locationId: $l, from: $f, to: $t, first: 100) {
  __typename ... on AppointmentConnection { edges { node { id startsAt } } } ... on ValidationError { field message } } }"""

PAGE = """query($l: ID!, $f: DateTime, $t: DateTime, $a: String) { appointments(locationId: $l, from: $f, to: $t, first: 3, after: $a) {
  __typename ... on AppointmentConnection { edges { node { id } } pageInfo { hasNextPage endCursor } } ... on ValidationError { field } } }"""


def offset(minutes: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(minutes=minutes))


# Every UTC offset from -12:00 to +14:00, the odd ones in use (+05:30, +05:45, +12:45, -09:30) first.
OFFSETS = st.sampled_from([-720, -570, 0, 330, 345, 765, 840]).map(offset) | st.integers(-720, 840).map(offset)


@pytest.fixture
async def sydney(api):
    """Appointments around one day at an Australia/Sydney location: (api, clinic, local midnight
    of the day, {appointment id: start})."""
    clinic = await make_clinic(api, timezone="Australia/Sydney")
    starts = {}
    for day, hour, minute in TIMES:
        start = local(clinic.tz, DAYS_AHEAD + day, hour, minute)
        booked = await book(api, clinic, start)
        assert booked["__typename"] == "Appointment", booked
        starts[booked["id"]] = start
    return api, clinic, local(clinic.tz, DAYS_AHEAD, 0), starts


async def window_ids(api, clinic, start: dt.datetime | None, end: dt.datetime | None) -> list[str]:
    variables = {"l": clinic.location, "f": start and start.isoformat(), "t": end and end.isoformat()}
    result = (await api.data(WINDOW, variables))["appointments"]
    assert result["__typename"] == "AppointmentConnection", result
    return [edge["node"]["id"] for edge in result["edges"]]


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(minutes=st.integers(-36 * 60, 36 * 60), length=st.integers(1, 48 * 60), from_zone=OFFSETS, to_zone=OFFSETS)
@example(minutes=0, length=24 * 60, from_zone=offset(11 * 60), to_zone=offset(11 * 60))  # the Sydney day
@example(minutes=0, length=24 * 60, from_zone=offset(-5 * 60), to_zone=offset(-5 * 60))
@example(minutes=0, length=24 * 60, from_zone=offset(14 * 60), to_zone=offset(-12 * 60))
async def test_an_appointment_window_finds_the_same_rows_in_every_offset(sydney, minutes, length, from_zone, to_zone):
    api, clinic, midnight, starts = sydney
    start = (midnight.astimezone(UTC) + dt.timedelta(minutes=minutes)).astimezone(from_zone)
    end = (start + dt.timedelta(minutes=length)).astimezone(to_zone)
    expected = [i for i, at in sorted(starts.items(), key=lambda item: item[1]) if start <= at < end]
    assert await window_ids(api, clinic, start, end) == expected
    assert await window_ids(api, clinic, start.astimezone(UTC), end.astimezone(UTC)) == expected


async def test_the_local_day_at_sydney_holds_its_appointments_and_no_others_in_any_form(sydney):
    api, clinic, midnight, starts = sydney
    next_midnight = local(clinic.tz, DAYS_AHEAD + 1, 0)
    expected = [i for i, at in starts.items() if at.date() == midnight.date()]
    assert len(expected) == 7
    assert await window_ids(api, clinic, midnight, next_midnight) == expected
    assert (await window_ids(api, clinic, midnight, None))[:7] == expected
    assert (await window_ids(api, clinic, None, next_midnight))[-7:] == expected
    pages, after = [], None
    while after is not False:
        page = (
            await api.data(
                PAGE, {"l": clinic.location, "f": midnight.isoformat(), "t": next_midnight.isoformat(), "a": after}
            )
        )["appointments"]
        pages.append([edge["node"]["id"] for edge in page["edges"]])
        after = page["pageInfo"]["hasNextPage"] and page["pageInfo"]["endCursor"]
    assert pages == [expected[:3], expected[3:6], expected[6:]]
    for forged in (["2030-01-01T00:00:00", 1], ["0001-01-01T00:00:00+14:00", 1]):  # no offset; before year 1 in UTC
        cursor = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode()
        page = (await api.data(PAGE, {"l": clinic.location, "f": midnight.isoformat(), "t": None, "a": cursor}))[
            "appointments"
        ]
        assert page == {"__typename": "ValidationError", "field": "after"}, page
    # Windows beyond the years diaries use are refused, not converted past year 1 or 9999.
    for start, end in (("0001-01-01T00:00:00+14:00", None), (None, "9999-12-31T23:59:59-12:00")):
        result = (await api.data(WINDOW, {"l": clinic.location, "f": start, "t": end}))["appointments"]
        assert result["__typename"] == "ValidationError" and result["field"] == ("from" if start else "to"), result


async def queued(location: Location, names: list[str]) -> dict[str, int]:
    rows = [
        OutboxMessage(
            location=location,
            event="APPOINTMENT_BOOKED",
            role=RecipientRole.CUSTOMER,
            to_address=f"{n}@example.com",
            subject=n,
            body=n,
            message_id=f"<{n}-{location.id}@clinic.example>",
            send_after=clock.now(),
        )
        for n in names
    ]
    await OutboxMessage.bulk_create(rows)
    return {m.subject: m.id for m in await OutboxMessage.filter(location_id=location.id)}


async def test_the_outbox_claims_and_orders_by_instant_whatever_offset_times_come_in(api):
    location = await Location.create(name="Clinic", timezone="Pacific/Kiritimati", currency="EUR")
    ids = await queued(location, ["early", "late", "future"])
    now = clock.now().replace(microsecond=0)
    # A 4xx answer queues each again, given in far-apart offsets: "late" is due after "early", but
    # its local text (-12:00) reads as earlier than early's (+14:00).
    await OutboxMessage.filter(location_id=location.id).update(status=DeliveryStatus.SENDING, leased_by="w0")
    for name, due, zone in (
        ("early", now - dt.timedelta(hours=2), 840),
        ("late", now - dt.timedelta(hours=1), -720),
        ("future", now + dt.timedelta(minutes=30), -720),
    ):
        assert await outbox.retry_later(ids[name], "w0", due.astimezone(offset(zone)), "451 try later") == 1
    stored = {
        r["id"]: r["send_after"]
        for r in await sql.rows('SELECT id, send_after FROM "outbox_message" WHERE location_id = {0}', [location.id])
    }
    assert all(sql.instant(v).utcoffset() == dt.timedelta(0) for v in stored.values())
    if isinstance(next(iter(stored.values())), str):  # SQLite keeps text: in UTC, it sorts as time does
        assert sorted(stored, key=stored.get) == [ids["early"], ids["late"], ids["future"]]
    # The worker's clock, given in an offset far west of UTC, claims oldest first and nothing not due.
    west_now = now.astimezone(offset(-720))
    first = await outbox.claim(1, "w1", west_now, (now + dt.timedelta(minutes=5)).astimezone(offset(345)))
    assert [c.id for c in first] == [ids["early"]]
    rest = await outbox.claim(10, "w1", west_now, (now + dt.timedelta(minutes=5)).astimezone(offset(345)))
    assert [c.id for c in rest] == [ids["late"]]
    assert await outbox.mark_sent([ids["early"], ids["late"]], "w1", now.astimezone(offset(840))) == 2
    assert [
        c.id
        for c in await outbox.claim(
            10, "w2", (now + dt.timedelta(hours=1)).astimezone(offset(840)), now + dt.timedelta(hours=2)
        )
    ] == [ids["future"]]


def _models() -> list[type[Model]]:
    modules = ["core.models"]
    for app in PluginHost.load(BUILTIN_PLUGINS, entry_point_plugins=False).model_apps().values():
        modules += app["models"]
    return [
        obj
        for name in modules
        for obj in vars(importlib.import_module(name)).values()
        if inspect.isclass(obj) and issubclass(obj, Model) and obj is not Model and obj.__module__ == name
    ]


def test_every_datetime_column_of_core_and_the_built_in_plugins_stores_utc():
    columns = {
        (model.__name__, name): field
        for model in _models()
        for name, field in model._meta.fields_map.items()
        if isinstance(field, TortoiseDatetimeField)
    }
    assert len(columns) > 30
    assert [column for column, field in columns.items() if not isinstance(field, DatetimeField)] == []


async def test_the_orm_stores_instants_in_utc_and_refuses_naive_ones(api):
    location = await Location.create(name="Clinic", timezone="Asia/Kathmandu", currency="NPR")
    at = dt.datetime(2026, 12, 7, 0, 0, tzinfo=offset(345))
    await Location.filter(id=location.id).update(logo_version=at)
    found = await sql.rows('SELECT logo_version FROM "location" WHERE id = {0}', [location.id])
    assert sql.instant(found[0]["logo_version"]) == at and sql.instant(
        found[0]["logo_version"]
    ).utcoffset() == dt.timedelta(0)
    if isinstance(found[0]["logo_version"], str):
        assert found[0]["logo_version"] == "2026-12-06 18:15:00+00:00"
    assert await Location.filter(logo_version__gte=at.astimezone(offset(-720)), id=location.id).count() == 1
    assert await Location.filter(logo_version__gt=at.astimezone(offset(840)), id=location.id).count() == 0
    with pytest.raises(ValueError, match="no UTC offset"):
        await Location.filter(id=location.id).update(logo_version=dt.datetime(2026, 12, 7))
    with pytest.raises(ValueError, match="no UTC offset"):
        await sql.rows('SELECT id FROM "location" WHERE logo_version < {0}', [dt.datetime(2026, 12, 7)])
