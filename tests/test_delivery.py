"""Outbox delivery against a real SMTP server (aiosmtpd on a free port in the test's event loop),
on SQLite and PostgreSQL: what arrives and how it looks; the server down, hanging up or silent
through more outages than there are tries (no try spent, everything arrives once it is back);
4xx retried with backoff, 5xx and exhausted tries FAILED and visible; a worker killed mid-batch
losing nothing (cancelled in-process, and a real `agendum worker` process SIGKILLed); two
workers — and two worker processes — never sending one message twice; stale reminders VOID;
the app's in-process worker woken by a booking. Backoffs and leases run out by moving core.clock
(`advance_clock`), never by waiting."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TEST_SECRET, bare_app
from helpers import book, local, make_clinic, until
from smtp_server import SmtpServer

from core import clock
from core.email.delivery import DeliveryConfig, Worker
from core.email.smtp import parse_smtp_url
from core.models import (
    Appointment,
    AppointmentStatus,
    Calendar,
    Customer,
    DeliveryStatus,
    Location,
    OutboxMessage,
    RecipientRole,
    Service,
)

AGENDUM = Path(sys.executable).with_name("agendum")
MAIL_FROM = "Riverside Clinic <no-reply@clinic.example>"
SMTP_TIMEOUT = 5.0  # generous: a loaded machine must not turn a slow answer into a (rightful) resend
SHORT_TIMEOUT = 0.25  # where a test waits on timeouts (a silent server)
# Quick everything: tests wait for seconds, not the minutes production backs off for.
FAST = DeliveryConfig(
    lanes=2,
    batch_size=10,
    poll_interval=0.05,
    lease_seconds=3.0,
    retry_base=0.05,
    retry_cap=0.2,
    outage_base=0.05,
    outage_cap=0.2,
)
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Agendum//Test//EN\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n"
    "UID:appointment-1@agendum.test\r\nSUMMARY:Check-up for Zoë\r\nDTSTART:20261124T103000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture
async def location(agendum_orm) -> Location:
    """A location in the test's database (the ORM only: no server, no worker)."""
    return await Location.create(
        name="Riverside Clinic", timezone="Europe/London", currency="GBP", contact_email="hello@riverside.example"
    )


def worker_for(smtp: SmtpServer, timeout: float = SMTP_TIMEOUT, **config) -> Worker:
    """A worker with FAST settings (its leases last at least 12 x the SMTP timeout)."""
    return Worker(bare_app(), parse_smtp_url(smtp.url(timeout)), MAIL_FROM, replace(FAST, **config))


async def queue(location: Location, count: int = 1, **fields) -> list[OutboxMessage]:
    """Outbox rows as the booking path writes them (due now unless send_after is given)."""
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(count):
        values = {
            "location": location,
            "event": "APPOINTMENT_BOOKED",
            "role": RecipientRole.CUSTOMER,
            "to_address": f"customer{n}@example.com",
            "subject": f"Your appointment #{n}",
            "body": f"Hello,\nsee https://agendum.test/a/{n}\n",
            "message_id": f"<{uuid.uuid4().hex}@clinic.example>",
            "send_after": now,
            **fields,
        }
        rows.append(OutboxMessage(**values))
    await OutboxMessage.bulk_create(rows)
    return await OutboxMessage.filter(message_id__in=[r.message_id for r in rows]).order_by("id")


async def rows(**filters) -> list[OutboxMessage]:
    return await OutboxMessage.filter(**filters).order_by("id")


async def all_sent(count: int):
    return await OutboxMessage.filter(status=DeliveryStatus.SENT).count() >= count


class Running:
    """A worker's run() as a task for the duration of a `with` block; stopped cleanly after."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    async def __aenter__(self) -> Worker:
        self.task = asyncio.create_task(self.worker.run())
        return self.worker

    async def __aexit__(self, *exc) -> None:
        self.worker.stop()
        await asyncio.wait_for(self.task, 10)


# ------------------------------------------------------------------ what arrives


async def test_messages_arrive_with_headers_body_message_id_and_calendar_file(location, smtp):
    invite = (
        await queue(
            location,
            to_address="Zoë Ångström <zoe@example.com>",
            subject="Your appointment — Zoë",
            body="Dear Zoë,\n\nmanage it here: https://agendum.test/a/xyz?x=1&y=2\n.\nA line that starts with a dot.\n",
            ics=ICS.format(method="REQUEST"),
        )
    )[0]
    cancel = (
        await queue(
            location,
            to_address="ben@example.com",
            event="APPOINTMENT_CANCELLED",
            subject="Cancelled",
            body="Cancelled.",
            ics=ICS.format(method="CANCEL"),
        )
    )[0]
    plain = (await queue(location, to_address="carl@example.com", subject="Plain", body="No calendar file here."))[0]
    worker = worker_for(smtp, lanes=1)
    stats = await worker.drain()
    assert (stats.sent, stats.failed, stats.retried, stats.outages) == (3, 0, 0, 0)
    assert smtp.connections == 1  # one session, reused for all three
    by_id = {mail.message_id: mail for mail in smtp.received}
    assert set(by_id) == {invite.message_id, cancel.message_id, plain.message_id}

    mail = by_id[invite.message_id]
    assert (mail.sender, mail.recipients) == ("no-reply@clinic.example", ["zoe@example.com"])
    message = mail.message
    assert message["From"] == MAIL_FROM
    assert message["To"] == "Zoë Ångström <zoe@example.com>"
    assert message["Reply-To"] == "hello@riverside.example"
    assert message["Subject"] == "Your appointment — Zoë"
    assert abs(message["Date"].datetime - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert message["Message-ID"] == invite.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(preferencelist=("plain",))
    assert (body.get_content_type(), body.get_content_charset()) == ("text/plain", "utf-8")
    assert body.get_content().replace("\r\n", "\n") == invite.body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert (attachment.get_param("method"), attachment.get_content_charset()) == ("REQUEST", "utf-8")
    assert attachment.get_content() == invite.ics
    assert "text/calendar; method=REQUEST; charset=utf-8" in mail.raw.decode("ascii")

    cancelled = by_id[cancel.message_id].message
    assert [a.get_param("method") for a in cancelled.iter_attachments()] == ["CANCEL"]
    only_text = by_id[plain.message_id].message
    assert only_text.get_content_type() == "text/plain" and not list(only_text.iter_attachments())
    assert only_text.get_content().replace("\r\n", "\n") == "No calendar file here.\n"

    for row in await rows():
        assert row.status is DeliveryStatus.SENT
        assert row.attempts == 1 and row.last_error == "" and row.lease_until is None  # one try: accepted
        assert row.sent_at is not None and row.leased_by == worker.worker_id


async def test_connections_are_reused_across_batches_and_lanes(location, smtp):
    await queue(location, 120)
    stats = await worker_for(smtp, lanes=3, batch_size=10).drain()
    assert stats.sent == 120
    assert sorted(smtp.message_ids().values()) == [1] * 120
    assert smtp.connections <= 3 * 2  # a lane may close its session when idle and open one again


# ------------------------------------------------------------------ unreachable server


@pytest.mark.parametrize("failure", ["down", "hangup", "silent"])
async def test_unreachable_server_spends_no_tries_and_everything_arrives_once_it_is_back(location, smtp, failure):
    """Refused connections, a server that hangs up before greeting, one that never answers:
    more outages than all tries would allow if they counted (3 tries)."""
    queued = await queue(location, 25)
    await getattr(smtp, failure)()
    async with Running(worker_for(smtp, timeout=SHORT_TIMEOUT, max_attempts=3)) as worker:
        await until(lambda: worker.stats.outages >= 4, what="four outages")
        assert worker.stats.sent == 0
        during = await rows()
        assert {r.status for r in during} <= {DeliveryStatus.QUEUED, DeliveryStatus.SENDING}
        assert {r.attempts for r in during} == {0}
        if failure != "down":
            assert smtp.connections >= 3
        await smtp.up()
        await until(lambda: all_sent(25), what="all 25 sent after the server came back")
    assert smtp.message_ids() == {r.message_id: 1 for r in queued}
    for row in await rows():
        assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 1, "")  # the outage spent none


async def test_server_going_down_mid_batch_releases_the_rest_unspent(location, smtp):
    queued = await queue(location, 30)
    smtp.delay = 0.02
    worker = worker_for(smtp, lanes=1, batch_size=30, max_attempts=2)

    async with Running(worker):
        await smtp.wait_for(5)
        await smtp.down()  # drops the session while a message waits for its answer
        await until(lambda: worker.stats.released, what="leases released")
        outages = worker.stats.outages
        await until(lambda: worker.stats.outages >= outages + 2, what="two more outages")  # tries would have run out
        assert all(
            r.attempts == (1 if r.status is DeliveryStatus.SENT else 0) for r in await rows()
        )  # the outage spent none
        assert await OutboxMessage.filter(status=DeliveryStatus.FAILED).count() == 0
        await smtp.up()
        await until(lambda: all_sent(30), what="all sent")
    counts = smtp.message_ids()
    assert set(counts) == {r.message_id for r in queued}
    # Only the message whose answer was lost may arrive twice (same Message-ID).
    assert sum(counts.values()) - 30 <= 1


# ------------------------------------------------------------------ the server's answers


async def test_a_4xx_answer_is_retried_with_backoff_then_sent(location, smtp, advance_clock):
    """Backoff of 60 s, then 120 s, in core.clock's time: not a try before it is due."""
    [flaky] = await queue(location, to_address="flaky@example.com")
    others = await queue(location, 3)
    tries: list[dt.datetime] = []

    def answer(envelope):
        if envelope.rcpt_tos == ["flaky@example.com"]:
            tries.append(clock.now())
            if len(tries) <= 2:
                return "451 4.3.0 Mailbox busy, try again later"
        return None

    async def queued_after(attempts: int) -> OutboxMessage | None:
        return await OutboxMessage.get_or_none(id=flaky.id, status=DeliveryStatus.QUEUED, attempts=attempts)

    smtp.on_data = answer
    async with Running(worker_for(smtp, retry_base=60, retry_cap=3600)) as worker:
        for attempts, backoff in [(1, 60), (2, 120)]:
            row = await until(
                lambda attempts=attempts: queued_after(attempts), what=f"queued again after try {attempts}"
            )
            assert abs((row.send_after - tries[-1]).total_seconds() - backoff) < 5
            await smtp.settle()  # everything due went: the refused message is not
            assert len(tries) == attempts
            advance_clock(backoff)
        await until(lambda: all_sent(4), what="all sent")
    assert len(tries) == 3
    assert worker.stats.retried == 2
    flaky = await OutboxMessage.get(id=flaky.id)
    assert (flaky.status, flaky.attempts) == (DeliveryStatus.SENT, 3)  # two refusals and the accepted try
    assert "451 4.3.0 Mailbox busy" in flaky.last_error  # the story stays visible
    assert smtp.message_ids() == {m.message_id: 1 for m in [flaky, *others]}


async def test_a_5xx_answer_fails_the_message_visibly_and_the_others_still_go(location, smtp):
    [bad] = await queue(location, to_address="nobody@example.com")
    good = await queue(location, 3)
    smtp.on_rcpt = lambda address: "550 5.1.1 No such user here" if address == "nobody@example.com" else None
    stats = await worker_for(smtp, lanes=1).drain()
    assert (stats.sent, stats.failed) == (3, 1)
    bad = await OutboxMessage.get(id=bad.id)
    assert (bad.status, bad.attempts) == (DeliveryStatus.FAILED, 1)
    assert bad.last_error == "Refused: 550 5.1.1 No such user here"
    assert bad.sent_at is None and bad.lease_until is None
    assert smtp.message_ids() == {m.message_id: 1 for m in good}
    assert smtp.connections == 1  # the refusal did not cost the session


async def test_tries_run_out_after_max_attempts(location, smtp, advance_clock):
    [row] = await queue(location)
    smtp.on_data = lambda envelope: "452 4.2.2 Mailbox full"
    async with Running(worker_for(smtp, max_attempts=3, retry_base=60)):
        for tries in (1, 2):
            await until(
                lambda tries=tries: OutboxMessage.exists(id=row.id, status=DeliveryStatus.QUEUED, attempts=tries),
                what=f"queued again after try {tries}",
            )
            advance_clock(60 * tries)
        await until(lambda: OutboxMessage.filter(status=DeliveryStatus.FAILED).exists(), what="FAILED")
    row = await OutboxMessage.get(id=row.id)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
    assert row.last_error == "Gave up after 3 tries; last answer: 452 4.2.2 Mailbox full"
    assert smtp.data_commands == 3 and smtp.received == []


async def test_a_message_that_cannot_be_written_fails_without_spending_a_try(location, smtp):
    [injected] = await queue(location, to_address="ada@example.com\r\nBcc: everyone@example.com")
    [nonsense] = await queue(location, to_address="not an address")
    [fine] = await queue(location)
    stats = await worker_for(smtp).drain()
    assert (stats.sent, stats.failed) == (1, 2)
    for row in (injected, nonsense):
        row = await OutboxMessage.get(id=row.id)
        assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 0)
        assert row.last_error.startswith("The message cannot be built: recipient"), row.last_error
    assert smtp.message_ids() == {fine.message_id: 1}


# ------------------------------------------------------------------ workers that die


async def test_expired_leases_of_a_dead_worker_are_taken_over_live_ones_are_not(location, smtp):
    now = dt.datetime.now(dt.UTC)
    dead = await queue(
        location, 4, status=DeliveryStatus.SENDING, leased_by="dead-worker", lease_until=now - dt.timedelta(seconds=1)
    )
    held = await queue(
        location, 3, status=DeliveryStatus.SENDING, leased_by="live-worker", lease_until=now + dt.timedelta(minutes=5)
    )
    stats = await worker_for(smtp).drain()
    assert stats.sent == 4
    assert smtp.message_ids() == {m.message_id: 1 for m in dead}
    assert {(r.status, r.leased_by) for r in await rows(id__in=[m.id for m in held])} == {
        (DeliveryStatus.SENDING, "live-worker")
    }


async def test_a_worker_cancelled_mid_batch_loses_nothing(location, smtp, advance_clock):
    queued = await queue(location, 40)
    smtp.delay = 0.05
    first = worker_for(smtp, lanes=2, batch_size=20)
    task = asyncio.create_task(first.run())
    await smtp.wait_for(6)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert len(smtp.received) < 40
    smtp.delay = 0
    advance_clock(first.lease_seconds)  # any lease it could not give back has run out
    second = worker_for(smtp)
    async with Running(second):
        await until(lambda: all_sent(40), timeout=30, what="all sent by the second worker")
    counts = smtp.message_ids()
    assert set(counts) == {r.message_id for r in queued}
    assert sum(counts.values()) - 40 <= 2  # at most the messages in flight (one per lane) again


async def test_a_worker_process_killed_mid_batch_loses_nothing(location, smtp, database_url, advance_clock):
    """SIGKILL: no cleanup at all. Its leases expire; another worker sends, same Message-IDs."""
    queued = await queue(location, 60)
    smtp.delay = 0.05
    process = await _worker_process(database_url, smtp, "--lanes", "2", "--batch", "20", "--lease-seconds", "60")
    try:
        await smtp.wait_for(4, timeout=60)
    finally:
        process.kill()
        await process.wait()
    orphaned = await rows(status=DeliveryStatus.SENDING)
    assert orphaned and all(r.leased_by and r.lease_until is not None for r in orphaned)  # leases of the dead
    smtp.delay = 0
    advance_clock(60)  # the leases of the dead run out
    async with Running(worker_for(smtp)):
        await until(lambda: all_sent(60), timeout=30, what="all sent after the leases expired")
    counts = smtp.message_ids()
    assert set(counts) == {r.message_id for r in queued}
    assert sum(counts.values()) - 60 <= 2


async def test_a_slow_batch_is_given_back_before_its_lease_could_run_out(location, smtp, advance_clock):
    """A lease of 60 s (12 x the SMTP timeout of 5 s), each message answered 3 s later in
    core.clock's time: a lane stops taking messages from its batch while it still has time to
    finish and record one (2 x 4 x the SMTP timeout), gives the rest back after 7, and claims
    again with a fresh lease. Nothing goes twice, no try is spent."""
    queued = await queue(location, 20)

    def slow(envelope):
        advance_clock(3)
        return None

    smtp.on_data = slow
    worker = worker_for(smtp, lanes=1, batch_size=20, lease_seconds=1)
    assert worker.lease_seconds == 60.0
    stats = await worker.drain()
    assert stats.sent == 20 and stats.released == 13 + 6 and stats.claimed == 20 + 13 + 6
    assert smtp.message_ids() == {r.message_id: 1 for r in queued}
    assert {(r.status, r.attempts) for r in await rows()} == {(DeliveryStatus.SENT, 1)}


# ------------------------------------------------------------------ concurrent workers


async def test_two_workers_never_send_one_message_twice(location, smtp):
    queued = await queue(location, 320)
    smtp.delay = 0.001
    first, second = worker_for(smtp, lanes=3), worker_for(smtp, lanes=3)
    a, b = await asyncio.gather(first.drain(), second.drain())
    assert smtp.message_ids() == {r.message_id: 1 for r in queued}
    assert a.sent + b.sent == 320 and a.sent > 0 and b.sent > 0
    assert await OutboxMessage.filter(status=DeliveryStatus.SENT).count() == 320


async def test_two_worker_processes_never_send_one_message_twice(location, smtp, database_url):
    """The claim is one UPDATE (SQLite: the write lock, across processes; PostgreSQL: FOR UPDATE
    SKIP LOCKED): two `agendum worker` processes on one database, each message exactly once."""
    queued = await queue(location, 400)
    smtp.gate.clear()  # no answers until both processes hold leases: neither can finish alone first
    processes = [
        await _worker_process(database_url, smtp, "--lanes", "3", "--batch", "10", "--until-idle", timeout=60)
        for _ in range(2)
    ]  # a held answer is not a timeout, however slowly the second one starts
    outputs = []
    try:
        await until(lambda: _leaseholders(2), timeout=60, what="both processes holding leases")
        smtp.gate.set()
        for process in processes:
            stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
            assert process.returncode == 0, stderr.decode()
            assert "Traceback" not in stderr.decode(), stderr.decode()
            outputs.append(stdout.decode())
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert smtp.message_ids() == {r.message_id: 1 for r in queued}
    sent = await rows(status=DeliveryStatus.SENT)
    assert len(sent) == 400
    assert len({r.leased_by for r in sent}) == 2, outputs  # both processes took part
    assert all("stopped:" in out for out in outputs), outputs


async def _leaseholders(count: int) -> bool:
    return len({r.leased_by for r in await rows(status=DeliveryStatus.SENDING)}) >= count


async def _worker_process(database_url: str, smtp: SmtpServer, *args: str, timeout: float = SMTP_TIMEOUT):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    env.update(
        AGENDUM_DATABASE_URL=database_url,
        AGENDUM_SMTP_URL=smtp.url(timeout),
        AGENDUM_MAIL_FROM=MAIL_FROM,
        AGENDUM_SECRET_KEY=TEST_SECRET,
        AGENDUM_BASE_URL="http://testserver",
    )
    return await asyncio.create_subprocess_exec(
        str(AGENDUM),
        "worker",
        "--poll-interval",
        "0.1",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


# ------------------------------------------------------------------ reminders


async def test_stale_reminders_become_void_and_current_ones_are_sent(location, smtp):
    calendar = await Calendar.create(location=location, name="Dr Who")
    service = await Service.create(location=location, name="Checkup", duration_minutes=30)
    customer = await Customer.create(
        location=location, first_name="Ada", last_name="Lovelace", email="ada@example.com", email_key="ada@example.com"
    )
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)

    async def appointment(hours: float, **fields) -> Appointment:
        starts = start + dt.timedelta(hours=hours)
        return await Appointment.create(
            location=location,
            calendar=calendar,
            service=service,
            customer=customer,
            starts_at=starts,
            ends_at=starts + dt.timedelta(minutes=30),
            blocked_until=starts + dt.timedelta(minutes=30),
            **fields,
        )

    current = await appointment(0, sequence=2)
    moved = await appointment(1, sequence=1)
    cancelled = await appointment(2, status=AppointmentStatus.CANCELLED)
    started = await appointment(-30)
    gone = await appointment(3)

    async def reminder(appt: Appointment, sequence: int) -> OutboxMessage:
        return (
            await queue(
                location,
                event="APPOINTMENT_REMINDER",
                appointment=appt,
                is_reminder=True,
                appointment_sequence=sequence,
                subject=f"Reminder {appt.id}",
            )
        )[0]

    reminders = {
        "current": await reminder(current, 2),
        "moved": await reminder(moved, 0),
        "cancelled": await reminder(cancelled, 0),
        "started": await reminder(started, 0),
        "gone": await reminder(gone, 0),
    }
    await gone.delete()  # the outbox row keeps living with appointment_id NULL
    stats = await worker_for(smtp).drain()
    assert (stats.sent, stats.voided) == (1, 4)
    assert smtp.message_ids() == {reminders["current"].message_id: 1}
    after = {name: await OutboxMessage.get(id=row.id) for name, row in reminders.items()}
    assert after["current"].status is DeliveryStatus.SENT
    for name in ("moved", "cancelled", "started", "gone"):
        assert after[name].status is DeliveryStatus.VOID, name
        assert after[name].attempts == 0 and after[name].sent_at is None
    assert "cancelled" in after["cancelled"].last_error
    assert "changed" in after["moved"].last_error
    assert "started" in after["started"].last_error
    assert "no longer exists" in after["gone"].last_error


# ------------------------------------------------------------------ the app's own worker


async def test_the_app_worker_sends_a_booking_email_at_once_and_stops_cleanly(api_factory, smtp):
    """Polling once an hour, yet the booking's email arrives: the after-commit listener wakes the
    worker."""
    api = await api_factory(smtp_url=smtp.url(SMTP_TIMEOUT), delivery=replace(FAST, poll_interval=3600))
    clinic = await make_clinic(api)
    await asyncio.wait_for(
        api.app.asgi.state.worker.idle.wait(), 10
    )  # its first look found nothing; now it waits an hour
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    assert booked["__typename"] == "Appointment", booked
    await smtp.wait_for(1)
    [mail] = smtp.received
    assert mail.recipients == ["ada@example.com"]
    [row] = await rows(event="APPOINTMENT_BOOKED")
    assert mail.message_id == row.message_id
    assert [a.get_filename() for a in mail.message.iter_attachments()] == ["invite.ics"]
    await until(lambda: all_sent(1), what="recorded as SENT")
