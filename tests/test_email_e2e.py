"""Emails of the booking path end to end, through a real SMTP server (aiosmtpd) and the app's
in-process outbox worker: the right template to the right people, every placeholder filled, the
calendar file right; and an SMTP outage during a burst of bookings loses and repeats nothing."""

from __future__ import annotations

import datetime as dt
import re

from helpers import book, local, make_clinic, until
from icalendar import Calendar as ICalendar

from core import booking, clock
from core.email.delivery import DeliveryConfig
from core.models import ActorKind, DeliveryStatus, OutboxMessage
from core.security.access import Actor

FAST = DeliveryConfig(
    poll_interval=0.2, outage_base=0.05, outage_cap=0.2, retry_base=0.1, retry_cap=0.5, max_attempts=3
)
CUSTOMER_PLACEHOLDERS = [
    "ClientFullName",
    "ClientFirstName",
    "AppointmentStartDateTime",
    "AppointmentEndDateTime",
    "NextAppointmentStartDateTime",
    "ServiceName",
    "CalendarName",
    "LocationName",
    "LocationPhone",
    "CancellationReason",
    "CancellationNote",
]
STAFF_PLACEHOLDERS = CUSTOMER_PLACEHOLDERS + ["ClientEmail", "ClientMobilePhone"]
EVENTS = ["APPOINTMENT_BOOKED", "APPOINTMENT_CONFIRMED", "APPOINTMENT_RESCHEDULED", "APPOINTMENT_CANCELLED"]
SAVE = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename ... on EmailTemplate { id } ... on ValidationError { message } } }"


def body_of(mail) -> str:
    return mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def calendar_file(mail):
    for part in mail.message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return ICalendar.from_ical(part.get_content()), part
    return None, None


async def test_each_change_sends_the_right_template_to_the_right_people(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url(), delivery=FAST)
    clinic = await make_clinic(api, rules={"cancellationReasons": ["Clash"]})
    staff_ids = {}
    for event in EVENTS:
        customer_body = " | ".join(f"{name}=[{{{name}}}]" for name in CUSTOMER_PLACEHOLDERS)
        saved = await api.data(
            SAVE,
            {
                "i": {
                    "locationId": clinic.location,
                    "name": f"c-{event}",
                    "event": event,
                    "role": "CUSTOMER",
                    "subject": f"{event} for {{ClientFirstName}}",
                    "body": customer_body,
                }
            },
        )
        assert saved["saveEmailTemplate"]["__typename"] == "EmailTemplate", saved
        staff_body = " | ".join(f"{name}=[{{{name}}}]" for name in STAFF_PLACEHOLDERS)
        saved = await api.data(
            SAVE,
            {
                "i": {
                    "locationId": clinic.location,
                    "name": f"s-{event}",
                    "event": event,
                    "role": "STAFF",
                    "subject": f"STAFF {event}",
                    "body": staff_body,
                }
            },
        )
        staff_ids[event] = saved["saveEmailTemplate"]["id"]
    notices = [{"event": e, "templateId": staff_ids[e]} for e in EVENTS]
    await api.data(
        "mutation($l: ID!, $n: [StaffNoticeInput!]!) { updateEmailSettings(locationId: $l, input: {staffNotices: $n}) { __typename } }",
        {"l": clinic.location, "n": notices},
    )
    customer = Actor(ActorKind.PORTAL, id="portal:1", customer_id=int(clinic.customer))
    start, moved_to = local(clinic.tz, 6, 10), local(clinic.tz, 7, 11)
    booked = await book(api, clinic, start)  # by staff: the customer is told, the diary contact not
    appointment_id = int(booked["id"])
    await booking.confirm(api.app.plugins, customer, appointment_id)
    await booking.reschedule(api.app.plugins, customer, appointment_id, moved_to)
    await booking.cancel(api.app.plugins, customer, appointment_id, reason="Clash", note="Sorry!")
    await smtp.wait_for(4 + 3)
    by_subject = {mail.message["Subject"]: mail for mail in smtp.received}
    assert set(by_subject) == {
        "APPOINTMENT_BOOKED for Ada",
        "APPOINTMENT_CONFIRMED for Ada",
        "APPOINTMENT_RESCHEDULED for Ada",
        "APPOINTMENT_CANCELLED for Ada",
        "STAFF APPOINTMENT_CONFIRMED",
        "STAFF APPOINTMENT_RESCHEDULED",
        "STAFF APPOINTMENT_CANCELLED",
    }
    for subject, mail in by_subject.items():
        text = body_of(mail)
        assert "{" not in text, text
        staff = subject.startswith("STAFF")
        assert mail.recipients == (["who@clinic.example"] if staff else ["ada@example.com"])
        assert (
            "ClientFullName=[Ada Lovelace]" in text
            and "CalendarName=[Dr Who]" in text
            and "LocationPhone=[+44 20 7946 0000]" in text
        )
        assert (
            ("ClientEmail=[ada@example.com]" in text and "ClientMobilePhone=[+44 7700 900123]" in text)
            if staff
            else "ClientEmail" not in text
        )
        assert re.search(r"AppointmentStartDateTime=\[\w+day, \w+ \d+, 2026", text)
    cancelled = body_of(by_subject["APPOINTMENT_CANCELLED for Ada"])
    assert "CancellationReason=[Clash]" in cancelled and "CancellationNote=[Sorry!]" in cancelled
    # Calendar files: every customer email carries one, the same UID throughout, SEQUENCE raised by
    # each change; staff notices carry none.
    methods, uids, sequences = {}, set(), {}
    for event_name in EVENTS:
        subject = f"{event_name} for Ada"
        ics, part = calendar_file(by_subject[subject])
        event = next(c for c in ics.walk() if c.name == "VEVENT")
        methods[subject], sequences[subject] = str(ics["METHOD"]), int(event["SEQUENCE"])
        uids.add(str(event["UID"]))
        assert part.get_param("method") == methods[subject]
    assert list(methods.values()) == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"] and len(uids) == 1
    assert list(sequences.values()) == [0, 1, 2, 3]
    ics, _ = calendar_file(by_subject["APPOINTMENT_RESCHEDULED for Ada"])
    assert next(c for c in ics.walk() if c.name == "VEVENT").decoded("DTSTART") == moved_to
    assert all(calendar_file(mail)[0] is None for subject, mail in by_subject.items() if subject.startswith("STAFF"))


async def test_an_smtp_outage_during_200_bookings_loses_and_repeats_nothing(api_factory, smtp):
    await smtp.down()
    api = await api_factory(smtp_url=smtp.url(timeout=30), delivery=FAST)
    clinic = await make_clinic(api, step=15, duration=15)
    results = []
    for i in range(200):
        day, minute = divmod(i, 48)
        start = local(clinic.tz, 2 + day, 8) + dt.timedelta(minutes=15 * minute)
        results.append((await book(api, clinic, start))["__typename"])
    assert results == ["Appointment"] * 200
    worker = api.app.asgi.state.worker
    await until(lambda: worker.stats.outages > FAST.max_attempts, what="more outages than tries")
    assert smtp.received == [] and await OutboxMessage.filter(status=DeliveryStatus.FAILED).count() == 0
    await smtp.up()
    await smtp.wait_for(200, timeout=60)
    await smtp.settle()
    assert len(smtp.received) == 200 and set(smtp.message_ids().values()) == {1}
    rows = await OutboxMessage.all()
    assert {r.status for r in rows} == {DeliveryStatus.SENT} and {r.attempts for r in rows} == {
        1
    }  # the outage spent no try


# 2027-10-31 in London: the clocks go back at 02:00 BST, so 01:00 happens twice.
FIRST_ONE_AM = dt.datetime(2027, 10, 31, 0, 0, tzinfo=dt.UTC)  # 01:00 BST
SECOND_ONE_AM = dt.datetime(2027, 10, 31, 1, 0, tzinfo=dt.UTC)  # 01:00 GMT


async def test_the_two_one_oclocks_of_a_fall_back_night_are_told_apart_in_every_email(api_factory, smtp, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2027, 10, 1, 12, tzinfo=dt.UTC))
    api = await api_factory(smtp_url=smtp.url(), delivery=FAST)
    clinic = await make_clinic(api)  # Europe/London, English
    await api.data(
        'mutation($l: ID!) { updateEmailSettings(locationId: $l, input: {staffNotices: [{event: "APPOINTMENT_CONFIRMED"}]}) { __typename } }',
        {"l": clinic.location},
    )
    first, second = await book(api, clinic, FIRST_ONE_AM), await book(api, clinic, SECOND_ONE_AM)
    assert (first["__typename"], second["__typename"]) == ("Appointment", "Appointment"), (first, second)
    # The customer confirms the second: the diary contact's notice names its zone too.
    await booking.confirm(
        api.app.plugins, Actor(ActorKind.PORTAL, id="portal:1", customer_id=int(clinic.customer)), int(second["id"])
    )
    await smtp.wait_for(4)  # two bookings and a confirmation to the customer, a notice to the diary contact
    booked = {}  # the booking email of each start, told apart by its calendar file
    for mail in smtp.received:
        if mail.message["Subject"].endswith(" is booked"):
            ics, _ = calendar_file(mail)
            booked[next(c for c in ics.walk() if c.name == "VEVENT").decoded("DTSTART")] = body_of(mail)
    assert set(booked) == {FIRST_ONE_AM, SECOND_ONE_AM}
    assert "Sunday, October 31, 2027, 1:00\u202fAM BST" in booked[FIRST_ONE_AM] and "GMT" not in booked[FIRST_ONE_AM]
    assert "Sunday, October 31, 2027, 1:00\u202fAM GMT" in booked[SECOND_ONE_AM] and "BST" not in booked[SECOND_ONE_AM]
    [notice] = [mail for mail in smtp.received if mail.recipients == ["who@clinic.example"]]
    assert (
        notice.message["Subject"] == "Confirmed: Ada Lovelace, Sunday, October 31, 2027, 1:00 AM GMT"
    )  # one line, plain spaces
    assert "for Sunday, October 31, 2027, 1:00\u202fAM GMT." in body_of(notice)
