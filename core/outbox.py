"""The lease protocol of the outbox: which worker may send which message, and what became of it.

A worker claims due rows with ONE statement that marks them SENDING with a lease (its id and an
expiry); it alone may send them until the lease runs out. Every later write names the worker
(`leased_by`) and the SENDING status, so a worker whose lease ran out cannot overwrite what
another one did. A worker that dies leaves its rows SENDING with a lease that expires; the next
claim takes them again (at-least-once: the Message-ID stays the same).

Due rows: QUEUED with `send_after <= now`, or SENDING with an expired lease. On PostgreSQL the
inner SELECT locks its rows with `FOR UPDATE SKIP LOCKED`, so concurrent claims never take the
same row (and never wait on each other); on SQLite the UPDATE holds the database's write lock
for the whole statement, across processes too. The SQL is written by hand per dialect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise import connections

from core.models import Appointment, AppointmentStatus

# SQLite compares its TEXT timestamps through julianday(), which understands any UTC offset.
_DUE = {
    "sqlite": "(status = 'QUEUED' AND julianday(send_after) <= julianday(?3))"
    " OR (status = 'SENDING' AND julianday(lease_until) < julianday(?3))",
    "postgres": "(status = 'QUEUED' AND send_after <= $3) OR (status = 'SENDING' AND lease_until < $3)",
}
_COLUMNS = (
    "id, location_id, appointment_id, to_address, subject, body, ics, message_id, is_reminder,"
    " appointment_sequence, attempts, send_after"
)
_CLAIM = (
    "UPDATE outbox_message SET status = 'SENDING', lease_until = {p}1, leased_by = {p}2"
    " WHERE id IN (SELECT id FROM outbox_message WHERE {due} ORDER BY send_after, id LIMIT {p}4{lock})"
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


def _dialect(connection) -> str:
    return "postgres" if connection.capabilities.dialect == "postgres" else "sqlite"


def _param(connection, value):
    """A datetime as the dialect stores it (SQLite: tortoise's TEXT format)."""
    if isinstance(value, dt.datetime) and _dialect(connection) == "sqlite":
        return value.isoformat(" ")
    return value


def _instant(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


async def claim(limit: int, worker_id: str, now: dt.datetime, lease_until: dt.datetime) -> list[Claimed]:
    """Lease up to `limit` due messages to `worker_id` until `lease_until`, oldest first."""
    connection = connections.get("default")
    dialect = _dialect(connection)
    sql = _CLAIM.format(
        p="$" if dialect == "postgres" else "?",
        due=_DUE[dialect],
        lock=" FOR UPDATE SKIP LOCKED" if dialect == "postgres" else "",
    )
    values = [_param(connection, lease_until), worker_id, _param(connection, now), limit]
    rows = await connection.execute_query_dict(sql, values)
    claimed = [
        Claimed(
            id=row["id"], location_id=row["location_id"], appointment_id=row["appointment_id"],
            to_address=row["to_address"], subject=row["subject"], body=row["body"], ics=row["ics"],
            message_id=row["message_id"], is_reminder=bool(row["is_reminder"]),
            appointment_sequence=row["appointment_sequence"], attempts=row["attempts"],
            send_after=_instant(row["send_after"]), lease_until=lease_until,
        )
        for row in rows
    ]
    claimed.sort(key=lambda c: (c.send_after, c.id))  # RETURNING promises no order
    return claimed


async def _update(assignments: str, values: list, ids: list[int], worker_id: str) -> int:
    """Run `UPDATE ... SET assignments` on the rows of `ids` still leased to `worker_id`; how many."""
    if not ids:
        return 0
    connection = connections.get("default")
    postgres = _dialect(connection) == "postgres"
    values = [_param(connection, v) for v in values] + [worker_id, *ids]
    n = len(values) - len(ids) - 1
    marks = [f"${i}" if postgres else "?" for i in range(1, len(values) + 1)]
    sql = (
        f"UPDATE outbox_message SET {assignments.format(*marks[:n])}"
        f" WHERE status = 'SENDING' AND leased_by = {marks[n]} AND id IN ({', '.join(marks[n + 1:])}) RETURNING id"
    )
    return len(await connection.execute_query_dict(sql, values))


async def mark_sent(ids: list[int], worker_id: str, now: dt.datetime) -> int:
    """The server accepted these messages: one more try each (the one that worked)."""
    return await _update("status = 'SENT', sent_at = {0}, attempts = attempts + 1, lease_until = NULL", [now], ids, worker_id)


async def release(ids: list[int], worker_id: str) -> int:
    """Give the leases back untouched (SMTP unreachable, or stopping): no try is spent."""
    return await _update("status = 'QUEUED', lease_until = NULL, leased_by = ''", [], ids, worker_id)


async def retry_later(message_id: int, worker_id: str, send_after: dt.datetime, error: str) -> int:
    """The server answered 4xx: one try spent, queued again for `send_after`."""
    return await _update(
        "status = 'QUEUED', attempts = attempts + 1, send_after = {0}, last_error = {1}, lease_until = NULL",
        [send_after, error], [message_id], worker_id,
    )


async def mark_failed(message_id: int, worker_id: str, error: str, spent: bool = True) -> int:
    """The server refused the message for good (5xx), its tries ran out, or it cannot be built."""
    attempts = "attempts + 1" if spent else "attempts"
    return await _update(
        f"status = 'FAILED', attempts = {attempts}, last_error = {{0}}, lease_until = NULL",
        [error], [message_id], worker_id,
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
    found = {
        row["id"]: row
        for row in await Appointment.filter(id__in=ids).values("id", "status", "sequence", "starts_at")
    } if ids else {}
    stale = {}
    for reminder in reminders:
        appointment = found.get(reminder.appointment_id)
        if appointment is None:
            stale[reminder.id] = "The appointment no longer exists; this reminder no longer applies."
        elif appointment["status"] == AppointmentStatus.CANCELLED:
            stale[reminder.id] = "The appointment was cancelled; this reminder no longer applies."
        elif appointment["sequence"] != reminder.appointment_sequence:
            stale[reminder.id] = "The appointment changed; this reminder no longer applies."
        elif _instant(appointment["starts_at"]) <= now:
            stale[reminder.id] = "The appointment had started before the reminder could be sent."
    return stale
