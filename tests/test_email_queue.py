"""Emails queued by the booking path: templates and placeholders, staff notices, reminders and
calendar files, all written to the outbox in the booking's transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from helpers import book, local, make_clinic
from icalendar import Calendar as ICalendar

from core import booking
from core.models import ActorKind, DeliveryStatus, OutboxMessage
from core.security.access import Actor

SAVE = """mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) {
  __typename ... on EmailTemplate { id name event role subject body isDefault } ... on ValidationError { field message } } }"""
TEMPLATES = "query($l: ID!) { emailTemplates(locationId: $l) { ... on EmailTemplateList { templates { id name event role isDefault } events { name } } } }"
SETTINGS = """mutation($l: ID!, $i: EmailSettingsInput!) { updateEmailSettings(locationId: $l, input: $i) {
  __typename ... on EmailSettings { reminderOffsetsMinutes staffNotices { event template { name } } } ... on ValidationError { field message } } }"""


def customer(clinic) -> Actor:
    return Actor(ActorKind.PORTAL, id="portal", customer_id=int(clinic.customer))


async def outbox(**filters) -> list[OutboxMessage]:
    return await OutboxMessage.filter(**filters).order_by("id")


async def test_placeholders_by_role_and_template_validation(api):
    clinic = await make_clinic(api)
    listing = await api.data(
        "query($l: ID!, $r: RecipientRole!) { emailPlaceholders(locationId: $l, role: $r) { ... on EmailPlaceholderList { placeholders { name plugin } } } }",
        {"l": clinic.location, "r": "CUSTOMER"},
    )
    names = [p["name"] for p in listing["emailPlaceholders"]["placeholders"]]
    assert "ClientFirstName" in names and "AppointmentStartDateTime" in names and "ClientEmail" not in names
    staff = await api.data(
        "query($l: ID!) { emailPlaceholders(locationId: $l, role: STAFF) { ... on EmailPlaceholderList { placeholders { name } } } }",
        {"l": clinic.location},
    )
    assert "ClientEmail" in [p["name"] for p in staff["emailPlaceholders"]["placeholders"]]
    base = {
        "locationId": clinic.location,
        "name": "Booked",
        "event": "APPOINTMENT_BOOKED",
        "role": "CUSTOMER",
        "subject": "Booked",
        "body": "Hi {ClientFirstName}",
    }
    unknown = (await api.data(SAVE, {"i": {**base, "body": "Hi {ClientShoeSize}"}}))["saveEmailTemplate"]
    assert unknown["__typename"] == "ValidationError" and unknown["field"] == "body"
    assert "{ClientShoeSize} is not a placeholder" in unknown["message"] and "{ClientFirstName}" in unknown["message"]
    forbidden = (await api.data(SAVE, {"i": {**base, "subject": "Mail {ClientEmail}"}}))["saveEmailTemplate"]
    assert forbidden["field"] == "subject" and "not allowed in customer emails" in forbidden["message"]
    assert "{ClientEmail}" not in forbidden["message"].split("Allowed:")[1]
    bad_event = (await api.data(SAVE, {"i": {**base, "event": "SOMETHING"}}))["saveEmailTemplate"]
    assert bad_event["field"] == "event"
    templates = (await api.data(TEMPLATES, {"l": clinic.location}))["emailTemplates"]["templates"]
    assert all(t["isDefault"] for t in templates) and len(templates) == 9
    saved = (await api.data(SAVE, {"i": base}))["saveEmailTemplate"]
    assert (saved["__typename"], saved["isDefault"]) == ("EmailTemplate", False)
    second = (await api.data(SAVE, {"i": {**base, "name": "Another booked"}}))["saveEmailTemplate"]
    assert second["__typename"] == "ValidationError" and second["field"] == "event"
    templates = (await api.data(TEMPLATES, {"l": clinic.location}))["emailTemplates"]["templates"]
    booked = [t for t in templates if t["event"] == "APPOINTMENT_BOOKED" and t["role"] == "CUSTOMER"]
    assert booked == [
        {"id": saved["id"], "name": "Booked", "event": "APPOINTMENT_BOOKED", "role": "CUSTOMER", "isDefault": False}
    ]
    deleted = await api.data("mutation($id: ID!) { deleteEmailTemplate(id: $id) { __typename } }", {"id": saved["id"]})
    assert deleted["deleteEmailTemplate"]["__typename"] == "EmailTemplate"
    templates = (await api.data(TEMPLATES, {"l": clinic.location}))["emailTemplates"]["templates"]
    assert [t["isDefault"] for t in templates if t["event"] == "APPOINTMENT_BOOKED" and t["role"] == "CUSTOMER"] == [
        True
    ]


async def test_booking_queues_the_customer_email_with_placeholders_and_calendar_file(api):
    clinic = await make_clinic(api, timezone="Europe/Berlin")
    await api.data(
        'mutation($l: ID!) { updateLocation(id: $l, input: {locale: "de_DE", name: "Praxis Mitte"}) { __typename } }',
        {"l": clinic.location},
    )
    await api.data(
        SAVE,
        {
            "i": {
                "locationId": clinic.location,
                "name": "Gebucht",
                "event": "APPOINTMENT_BOOKED",
                "role": "CUSTOMER",
                "subject": "Termin bei {LocationName}",
                "body": "Hallo {ClientFullName}, {ServiceName} bei {CalendarName}: {AppointmentStartDateTime} bis {AppointmentEndDateTime}. Nächster: {NextAppointmentStartDateTime}. Tel {LocationPhone}. {{literal}}",
            }
        },
    )
    start = local(clinic.tz, 9, 10)
    booked = await book(api, clinic, start)
    [message] = await outbox(appointment_id=int(booked["id"]))
    assert (message.event, message.role.value, message.to_address, message.template_name) == (
        "APPOINTMENT_BOOKED",
        "CUSTOMER",
        "ada@example.com",
        "Gebucht",
    )
    assert message.subject == "Termin bei Praxis Mitte"
    assert "Hallo Ada Lovelace, Checkup bei Dr Who:" in message.body and "{literal}" in message.body
    zone = start.tzname()  # CET or CEST: every time names its zone
    assert (
        f"10:00 {zone} bis" in message.body
        and f"10:30 {zone}." in message.body
        and "Tel +44 20 7946 0000" in message.body
    )
    weekday_de = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"][start.weekday()]
    assert weekday_de in message.body
    assert (
        message.status is DeliveryStatus.QUEUED
        and message.message_id.startswith("<")
        and message.message_id.endswith(">")
    )
    event = next(c for c in ICalendar.from_ical(message.ics).walk() if c.name == "VEVENT")
    assert ICalendar.from_ical(message.ics)["METHOD"] == "REQUEST"
    uuid.UUID(str(event["UID"]))  # random, not appointment-<id>@host: unique whatever the installation
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (0, "TENTATIVE")  # booked by staff: SCHEDULED
    assert event.decoded("DTSTART") == start and event.decoded("DTEND") == start + dt.timedelta(minutes=30)
    # Reschedule and cancel: the same UID, SEQUENCE raised by each, METHOD CANCEL at the end.
    await booking.reschedule(api.app.plugins, customer(clinic), int(booked["id"]), local(clinic.tz, 9, 11))
    cancelled = await booking.cancel(api.app.plugins, customer(clinic), int(booked["id"]), note="Sorry")
    messages = await outbox(appointment_id=int(booked["id"]))
    assert [m.event for m in messages] == ["APPOINTMENT_BOOKED", "APPOINTMENT_RESCHEDULED", "APPOINTMENT_CANCELLED"]
    calendars = [ICalendar.from_ical(m.ics) for m in messages]
    uids = {str(next(c for c in cal.walk() if c.name == "VEVENT")["UID"]) for cal in calendars}
    assert len(uids) == 1
    assert [str(cal["METHOD"]) for cal in calendars] == ["REQUEST", "REQUEST", "CANCEL"]
    events = [next(c for c in cal.walk() if c.name == "VEVENT") for cal in calendars]
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2] and cancelled.sequence == 1
    assert [str(e["STATUS"]) for e in events] == ["TENTATIVE", "CONFIRMED", "CANCELLED"]  # the customer moved it
    assert "Sorry" in messages[2].body


async def test_staff_notices_go_to_the_calendar_owner_only_for_customer_changes(api):
    clinic = await make_clinic(api)
    staff_template = (
        await api.data(
            SAVE,
            {
                "i": {
                    "locationId": clinic.location,
                    "name": "Tell the diary",
                    "event": "APPOINTMENT_CANCELLED",
                    "role": "STAFF",
                    "subject": "{ClientFullName} cancelled",
                    "body": "{ClientFullName} ({ClientMobilePhone}, {ClientEmail}) cancelled {AppointmentStartDateTime}: {CancellationReason}",
                }
            },
        )
    )["saveEmailTemplate"]
    settings = (
        await api.data(
            SETTINGS,
            {
                "l": clinic.location,
                "i": {
                    "staffNotices": [
                        {"event": "APPOINTMENT_BOOKED"},
                        {"event": "APPOINTMENT_CANCELLED", "templateId": staff_template["id"]},
                    ]
                },
            },
        )
    )["updateEmailSettings"]
    assert settings["staffNotices"] == [
        {"event": "APPOINTMENT_BOOKED", "template": None},
        {"event": "APPOINTMENT_CANCELLED", "template": {"name": "Tell the diary"}},
    ]
    by_staff = await book(api, clinic, local(clinic.tz, 4, 10))
    assert [m.role.value for m in await outbox(appointment_id=int(by_staff["id"]))] == ["CUSTOMER"]
    mine = await booking.book(
        api.app.plugins,
        customer(clinic),
        calendar_id=int(clinic.calendar),
        service_id=int(clinic.service),
        customer_id=int(clinic.customer),
        start=local(clinic.tz, 4, 12),
    )
    await booking.cancel(api.app.plugins, customer(clinic), mine.id)
    notices = await outbox(appointment_id=mine.id, role="STAFF")
    assert [m.to_address for m in notices] == ["who@clinic.example", "who@clinic.example"]
    assert notices[0].subject.startswith("New appointment: Ada Lovelace")
    assert notices[1].subject == "Ada Lovelace cancelled"
    assert "Ada Lovelace (+44 7700 900123, ada@example.com) cancelled" in notices[1].body
    bad = (await api.data(SETTINGS, {"l": clinic.location, "i": {"staffNotices": [{"event": "NOPE"}]}}))[
        "updateEmailSettings"
    ]
    assert bad["__typename"] == "ValidationError"


async def test_reminders_follow_the_appointment(api):
    clinic = await make_clinic(api)
    result = (await api.data(SETTINGS, {"l": clinic.location, "i": {"reminderOffsetsMinutes": [120, 1440]}}))[
        "updateEmailSettings"
    ]
    assert result["reminderOffsetsMinutes"] == [1440, 120]
    start = local(clinic.tz, 5, 10)
    booked = await book(api, clinic, start)
    reminders = await outbox(appointment_id=int(booked["id"]), is_reminder=True)
    assert [(r.send_after, r.appointment_sequence, r.status.value) for r in reminders] == [
        (start - dt.timedelta(days=1), 0, "QUEUED"),
        (start - dt.timedelta(hours=2), 0, "QUEUED"),
    ]
    new_start = local(clinic.tz, 6, 15)
    await api.data(
        "mutation($id: ID!, $t: DateTime!) { rescheduleAppointment(id: $id, start: $t) { __typename } }",
        {"id": booked["id"], "t": new_start.isoformat()},
    )
    reminders = await outbox(appointment_id=int(booked["id"]), is_reminder=True)
    assert [(r.send_after, r.appointment_sequence, r.status.value) for r in reminders] == [
        (start - dt.timedelta(days=1), 0, "VOID"),
        (start - dt.timedelta(hours=2), 0, "VOID"),
        (new_start - dt.timedelta(days=1), 1, "QUEUED"),
        (new_start - dt.timedelta(hours=2), 1, "QUEUED"),
    ]
    await api.data("mutation($id: ID!) { cancelAppointment(id: $id) { __typename } }", {"id": booked["id"]})
    assert {r.status.value for r in await outbox(appointment_id=int(booked["id"]), is_reminder=True)} == {"VOID"}
    # An appointment sooner than an offset gets only the reminders still ahead.
    soon = await book(api, clinic, local(clinic.tz, 0, 0) + dt.timedelta(hours=30))
    assert len(await outbox(appointment_id=int(soon["id"]), is_reminder=True)) in (1, 2)
    bad = (await api.data(SETTINGS, {"l": clinic.location, "i": {"reminderOffsetsMinutes": [1]}}))[
        "updateEmailSettings"
    ]
    assert bad["__typename"] == "ValidationError"


async def test_a_failed_booking_leaves_no_message(api):
    clinic = await make_clinic(api)
    assert (await book(api, clinic, local(clinic.tz, 3, 10)))["__typename"] == "Appointment"
    before = await OutboxMessage.all().count()
    assert (await book(api, clinic, local(clinic.tz, 3, 10)))["__typename"] == "SlotUnavailable"
    assert (await book(api, clinic, local(clinic.tz, 3, 10, 5)))["__typename"] == "ValidationError"
    assert await OutboxMessage.all().count() == before


async def test_preview_deliveries_and_resend(api):
    clinic = await make_clinic(api)
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    preview = (
        await api.data(
            "query($a: ID!, $t: ID!) { previewEmail(appointmentId: $a, templateId: $t) { __typename ... on EmailPreview { to subject body } } }",
            {"a": booked["id"], "t": "default:APPOINTMENT_REMINDER:CUSTOMER"},
        )
    )["previewEmail"]
    assert (
        preview["to"] == "ada@example.com"
        and preview["subject"] == "Reminder: your appointment at Clinic"
        and "Hello Ada" in preview["body"]
    )
    deliveries = (
        await api.data(
            "query($l: ID!) { emailDeliveries(locationId: $l) { ... on EmailDeliveryConnection { edges { node { id status to hasCalendarFile } } } } }",
            {"l": clinic.location},
        )
    )["emailDeliveries"]["edges"]
    assert [d["node"]["status"] for d in deliveries] == ["QUEUED"] and deliveries[0]["node"]["hasCalendarFile"]
    refused = (
        await api.data(
            "mutation($d: ID!) { resendEmail(deliveryId: $d) { __typename ... on ValidationError { message } } }",
            {"d": deliveries[0]["node"]["id"]},
        )
    )["resendEmail"]
    assert refused["__typename"] == "ValidationError"
    await OutboxMessage.filter(id=int(deliveries[0]["node"]["id"])).update(
        status=DeliveryStatus.FAILED, last_error="550 no such user"
    )
    again = (
        await api.data(
            "mutation($d: ID!) { resendEmail(deliveryId: $d) { __typename ... on EmailDelivery { id status resentFromId messageId } } }",
            {"d": deliveries[0]["node"]["id"]},
        )
    )["resendEmail"]
    assert again["status"] == "QUEUED" and again["resentFromId"] == deliveries[0]["node"]["id"]
    original = await OutboxMessage.get(id=int(deliveries[0]["node"]["id"]))
    assert again["messageId"] != original.message_id and original.status is DeliveryStatus.FAILED


async def test_a_branch_sharing_settings_uses_the_headquarters_templates(api):
    clinic = await make_clinic(api)
    await api.data(
        SAVE,
        {
            "i": {
                "locationId": clinic.location,
                "name": "HQ booked",
                "event": "APPOINTMENT_BOOKED",
                "role": "CUSTOMER",
                "subject": "From HQ",
                "body": "HQ says hi {ClientFirstName}",
            }
        },
    )
    branch = (
        await api.data(
            'mutation($hq: ID!) { createLocation(input: {name: "Branch", timezone: "Europe/London", currency: "EUR", headquartersId: $hq, sharesHeadquartersSettings: true}) { ... on Location { id } } }',
            {"hq": clinic.location},
        )
    )["createLocation"]["id"]
    refused = (
        await api.data(
            SAVE,
            {
                "i": {
                    "locationId": branch,
                    "name": "Mine",
                    "event": "APPOINTMENT_BOOKED",
                    "role": "CUSTOMER",
                    "subject": "x",
                    "body": "y",
                }
            },
        )
    )["saveEmailTemplate"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == "locationId"
    calendar = (
        await api.data(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Branch diary"}) { ... on Calendar { id } } }',
            {"l": branch},
        )
    )["createCalendar"]["id"]
    await api.data(
        "mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { __typename } }",
        {
            "c": calendar,
            "r": [
                {"weekday": d, "start": "00:00", "end": "24:00"}
                for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
            ],
        },
    )
    service = (
        await api.data(
            'mutation($l: ID!, $c: ID!) { createService(input: {locationId: $l, name: "Cut", durationMinutes: 30, calendarIds: [$c]}) { ... on Service { id } } }',
            {"l": branch, "c": calendar},
        )
    )["createService"]["id"]
    person = (
        await api.data(
            'mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "Bo", lastName: "B", email: "bo@example.com"}) { ... on Customer { id } } }',
            {"l": branch},
        )
    )["createCustomer"]["id"]
    from helpers import Clinic

    booked = await book(api, Clinic(branch, calendar, service, person, clinic.tz), local(clinic.tz, 2, 10))
    [message] = await outbox(appointment_id=int(booked["id"]))
    assert (message.subject, message.body, message.location_id) == ("From HQ", "HQ says hi Bo", int(branch))
