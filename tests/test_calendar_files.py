"""Calendar files (.ics) as customers' calendar apps read them, through a real SMTP server: one
UID per appointment that no other installation shares, a SEQUENCE that every change a calendar
must see raises (apart from `Appointment.sequence`), STATUS TENTATIVE until confirmed; and the
migration that keeps the calendar entries of appointments booked before it updatable."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import uuid

import httpx
from conftest import TEST_PLUGINS, Api, make_settings, start_server
from helpers import APPOINTMENT_FIELDS, book, local, make_clinic
from icalendar import Calendar as ICalendar
from test_email_e2e import FAST, calendar_file
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from app import orm_config
from core.email.ics import appointment_ics
from core.models import Appointment, Calendar, Customer, DeliveryStatus, Location, OutboxMessage, Service
from core.security.accounts import create_admin
from core.settings import Settings

CONFIRM = "mutation($id: ID!) { confirmAppointment(id: $id) { %s } }" % APPOINTMENT_FIELDS
RESCHEDULE = (
    "mutation($id: ID!, $t: DateTime!, $seq: Int) { rescheduleAppointment(id: $id, start: $t, expectedSequence: $seq) { %s } }"
    % APPOINTMENT_FIELDS
)
CANCEL = "mutation($id: ID!) { cancelAppointment(id: $id) { %s } }" % APPOINTMENT_FIELDS
REMINDERS = (
    "mutation($l: ID!) { updateEmailSettings(locationId: $l, input: {reminderOffsetsMinutes: [60]}) { __typename } }"
)


def vevent(mail):
    """(METHOD, the VEVENT) of a received email's calendar file."""
    ics, _ = calendar_file(mail)
    assert ics is not None, mail.message["Subject"]
    return str(ics["METHOD"]), next(c for c in ics.walk() if c.name == "VEVENT")


async def test_sequence_rises_with_every_change_and_status_is_tentative_until_confirmed(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url(), delivery=FAST)
    clinic = await make_clinic(api)
    await api.data(REMINDERS, {"l": clinic.location})
    start, moved_to = local(clinic.tz, 6, 10), local(clinic.tz, 7, 11)
    booked = await book(api, clinic, start)
    confirmed = (await api.data(CONFIRM, {"id": booked["id"]}))["confirmAppointment"]
    # Confirming is no reschedule: `sequence` stays (expectedSequence 0 still holds), so the
    # booking's reminder stays queued.
    assert (confirmed["status"], confirmed["sequence"]) == ("CONFIRMED", 0)
    [reminder] = await OutboxMessage.filter(appointment_id=int(booked["id"]), is_reminder=True)
    assert reminder.status is DeliveryStatus.QUEUED
    assert (await api.data(CONFIRM, {"id": booked["id"]}))["confirmAppointment"][
        "status"
    ] == "CONFIRMED"  # no-op: no email
    moved = (await api.data(RESCHEDULE, {"id": booked["id"], "t": moved_to.isoformat(), "seq": 0}))[
        "rescheduleAppointment"
    ]
    assert (moved["status"], moved["sequence"]) == ("SCHEDULED", 1)  # moved by staff: the customer should confirm again
    assert (await api.data(CANCEL, {"id": booked["id"]}))["cancelAppointment"]["status"] == "CANCELLED"
    await smtp.wait_for(4)
    customer_mails = [m for m in smtp.received if m.recipients == ["ada@example.com"]]
    files = [vevent(mail) for mail in customer_mails]
    assert [method for method, _ in files] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert [int(event["SEQUENCE"]) for _, event in files] == [0, 1, 2, 3]
    assert [str(event["STATUS"]) for _, event in files] == ["TENTATIVE", "CONFIRMED", "TENTATIVE", "CANCELLED"]
    assert len({str(event["UID"]) for _, event in files}) == 1
    assert [event.decoded("DTSTART") for _, event in files] == [start, start, moved_to, moved_to]


@contextlib.asynccontextmanager
async def installation(databases, **overrides):
    """A whole installation, started and stopped: its own database, settings and server."""
    url = await databases.new()
    settings = make_settings(url, **overrides)
    server, task, base_url = await start_server(settings)
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    try:
        issued = await create_admin("owner@test.example", "owner-password-1", settings)
        yield Api(
            url=base_url,
            client=client,
            settings=settings,
            owner_token=issued.token,
            app=server.config.app.state.agendum,
        )
    finally:
        await client.aclose()
        server.should_exit = True
        await task
        await databases.drop(url)


async def test_uids_differ_between_installations_and_hold_within_one(databases, smtp):
    uids = []
    for secret in (secrets.token_urlsafe(48), secrets.token_urlsafe(48)):  # two installations, two keys
        async with installation(databases, secret_key=secret, smtp_url=smtp.url(), delivery=FAST) as api:
            clinic = await make_clinic(api)
            before = len(smtp.received)
            booked = await book(api, clinic, local(clinic.tz, 6, 10))
            assert booked["id"] == "1"  # the same appointment id in both installations
            await api.data(CANCEL, {"id": booked["id"]})
            await smtp.wait_for(before + 2)
            mine = {str(vevent(mail)[1]["UID"]) for mail in smtp.received[before:]}
            assert len(mine) == 1  # booked and cancelled: one calendar entry
            uids.append(mine.pop())
    assert uids[0] != uids[1]


async def test_migration_keeps_the_uid_and_sequence_of_appointments_booked_before_it(databases):
    url = await databases.new()
    config = orm_config(Settings(database_url=url, load_entry_points=False), TEST_PLUGINS)
    await Tortoise.init(config=config)
    try:
        location = await Location.create(name="Clinic", timezone="Europe/Berlin", currency="EUR")
        calendar = await Calendar.create(location=location, name="Dr Who")
        service = await Service.create(location=location, name="Checkup", duration_minutes=30)
        customer = await Customer.create(
            location=location,
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            email_key="ada@example.com",
        )
        start = dt.datetime(2030, 1, 7, 9, tzinfo=dt.UTC)
        old = await Appointment.create(
            location=location,
            calendar=calendar,
            service=service,
            customer=customer,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=30),
            blocked_until=start + dt.timedelta(minutes=30),
            sequence=2,
        )
        await Tortoise.close_connections()
        await migrate(config=config, target="core.0006_logo_version")  # as it was before 0007
        await migrate(config=config)
        await Tortoise.init(config=config)
        old = await Appointment.get(id=old.id)
        # Its invites went out as appointment-<id>@host with SEQUENCE 2: the next file follows on.
        assert (old.ics_uid, old.ics_sequence) == (None, 2)
        ics = ICalendar.from_ical(appointment_ics(old, location, service, calendar, customer, "http://testserver"))
        event = next(c for c in ics.walk() if c.name == "VEVENT")
        assert (str(event["UID"]), int(event["SEQUENCE"])) == (f"appointment-{old.id}@testserver", 2)
        new = await Appointment.create(
            location=location,
            calendar=calendar,
            service=service,
            customer=customer,
            starts_at=start + dt.timedelta(hours=1),
            ends_at=start + dt.timedelta(minutes=90),
            blocked_until=start + dt.timedelta(minutes=90),
        )
        new = await Appointment.get(id=new.id)
        assert isinstance(new.ics_uid, uuid.UUID) and new.ics_sequence == 0
    finally:
        await Tortoise.close_connections()
        await databases.drop(url)
