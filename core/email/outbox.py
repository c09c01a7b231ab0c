"""The lease protocol of the outbox: which worker may send which message, and what became of it.

A worker claims due rows with ONE statement that marks them SENDING with a lease (its id and an
expiry); it alone may send them until the lease runs out. Every later write names the worker
(`leased_by`) and the SENDING status, so a worker whose lease ran out cannot overwrite what
another one did. A worker that dies leaves its rows SENDING with a lease that expires; the next
claim takes them again (at-least-once: the Message-ID stays the same).

Due rows: QUEUED with `send_after <= now`, or SENDING with an expired lease. On PostgreSQL the
inner SELECT locks its rows with `FOR UPDATE SKIP LOCKED`, so concurrent claims never take the
same row (and never wait on each other); on SQLite the UPDATE holds the database's write lock
for the whole statement, across processes too. The SQL is written by hand, one statement for
both dialects (core.sql gives the parameter markers, the lock clause and instants in UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import sql
from core.models import Appointment, AppointmentStatus

_COLUMNS = (
    "id, location_id, appointment_id, to_address, subject, body, ics, message_id, is_reminder,"
    " appointment_sequence, attempts, send_after"
)
# Parameters: {0} lease_until, {1} worker, {2} now, {3} limit. Instants reach SQL in UTC (core.sql),
# so SQLite's stored text compares and sorts as the instants do.
_CLAIM = (
    "UPDATE outbox_message SET status = 'SENDING', lease_until = {0}, leased_by = {1}"
    " WHERE id IN (SELECT id FROM outbox_message"
    " WHERE (status = 'QUEUED' AND send_after <= {2}) OR (status = 'SENDING' AND lease_until < {2})"
    " ORDER BY send_after, id LIMIT {3}{skip_locked})"
    f" RETURNING {_COLUMNS}"
)


@dataclass
class Claimed:
    """An outbox row this worker holds a lease on."""

    id: int
    location_id: int
    appointment_id: int | None
    to_address: str
    subject: str
    body: str
    ics: str | None
    message_id: str
    is_reminder: bool
    appointment_sequence: int | None
    attempts: int
    send_after: dt.datetime
    lease_until: dt.datetime


async def claim(limit: int, worker_id: str, now: dt.datetime, lease_until: dt.datetime) -> list[Claimed]:
    """Lease up to `limit` due messages to `worker_id` until `lease_until`, oldest first."""
    rows = await sql.rows(_CLAIM, [lease_until, worker_id, now, limit])
    claimed = [
        Claimed(
            id=row["id"],
            location_id=row["location_id"],
            appointment_id=row["appointment_id"],
            to_address=row["to_address"],
            subject=row["subject"],
            body=row["body"],
            ics=row["ics"],
            message_id=row["message_id"],
            is_reminder=bool(row["is_reminder"]),
            appointment_sequence=row["appointment_sequence"],
            attempts=row["attempts"],
            send_after=sql.instant(row["send_after"]),
            lease_until=lease_until,
        )
        for row in rows
    ]
    claimed.sort(key=lambda c: (c.send_after, c.id))  # RETURNING promises no order
    return claimed


async def _update(assignments: str, values: list, ids: list[int], worker_id: str) -> int:
    """Run `UPDATE ... SET assignments` ({0}, {1}... the `values`) on the rows of `ids` still
    leased to `worker_id`; how many."""
    if not ids:
        return 0
    n = len(values)
    marks = ", ".join(f"{{{i}}}" for i in range(n + 1, n + 1 + len(ids)))
    query = (
        f"UPDATE outbox_message SET {assignments}"
        f" WHERE status = 'SENDING' AND leased_by = {{{n}}} AND id IN ({marks}) RETURNING id"
    )
    return len(await sql.rows(query, [*values, worker_id, *ids]))


async def mark_sent(ids: list[int], worker_id: str, now: dt.datetime) -> int:
    """The server accepted these messages: one more try each (the one that worked)."""
    return await _update(
        "status = 'SENT', sent_at = {0}, attempts = attempts + 1, lease_until = NULL", [now], ids, worker_id
    )


async def release(ids: list[int], worker_id: str) -> int:
    """Give the leases back untouched (SMTP unreachable, or stopping): no try is spent."""
    return await _update("status = 'QUEUED', lease_until = NULL, leased_by = ''", [], ids, worker_id)


async def retry_later(message_id: int, worker_id: str, send_after: dt.datetime, error: str) -> int:
    """The server answered 4xx: one try spent, queued again for `send_after`."""
    return await _update(
        "status = 'QUEUED', attempts = attempts + 1, send_after = {0}, last_error = {1}, lease_until = NULL",
        [send_after, error],
        [message_id],
        worker_id,
    )


async def mark_failed(message_id: int, worker_id: str, error: str, spent: bool = True) -> int:
    """The server refused the message for good (5xx), its tries ran out, or it cannot be built."""
    attempts = "attempts + 1" if spent else "attempts"
    return await _update(
        f"status = 'FAILED', attempts = {attempts}, last_error = {{0}}, lease_until = NULL",
        [error],
        [message_id],
        worker_id,
    )


async def mark_void(message_id: int, worker_id: str, reason: str) -> int:
    """A reminder that no longer applies: never sent."""
    return await _update("status = 'VOID', last_error = {0}, lease_until = NULL", [reason], [message_id], worker_id)


async def stale_reminders(claimed: list[Claimed], now: dt.datetime) -> dict[int, str]:
    """Of the claimed reminders, those to void (id -> reason): the appointment is gone, cancelled,
    moved since the reminder was queued (another sequence), or already started."""
    reminders = [c for c in claimed if c.is_reminder]
    if not reminders:
        return {}
    ids = {c.appointment_id for c in reminders if c.appointment_id is not None}
    found = (
        {row["id"]: row for row in await Appointment.filter(id__in=ids).values("id", "status", "sequence", "starts_at")}
        if ids
        else {}
    )
    stale = {}
    for reminder in reminders:
        appointment = found.get(reminder.appointment_id)
        if appointment is None:
            stale[reminder.id] = "The appointment no longer exists; this reminder no longer applies."
        elif appointment["status"] == AppointmentStatus.CANCELLED:
            stale[reminder.id] = "The appointment was cancelled; this reminder no longer applies."
        elif appointment["sequence"] != reminder.appointment_sequence:
            stale[reminder.id] = "The appointment changed; this reminder no longer applies."
        elif sql.instant(appointment["starts_at"]) <= now:
            stale[reminder.id] = "The appointment had started before the reminder could be sent."
    return stale
