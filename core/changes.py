"""What happened to an appointment, and who hears about it: listeners called inside the
booking transaction (to write outbox rows) and after commit (each isolated from the others)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.access import Actor

log = logging.getLogger("agendum.changes")


@dataclass
class Change:
    """One committed change: the action, the appointment after it, its fields before, the actor."""

    action: str  # BOOKED, CONFIRMED, RESCHEDULED, CANCELLED, COMPLETED, NO_SHOW
    appointment: Any
    before: dict
    actor: Actor


Listener = Callable[[Change], Awaitable[None]]
_in_transaction: dict[str, Listener] = {}
_after_commit: dict[str, Listener] = {}


def on_change_in_transaction(name: str, listener: Listener) -> None:
    """Register (or replace, by name) a listener run inside the booking transaction; it must do
    no external I/O, and an exception it raises rolls the change back."""
    _in_transaction[name] = listener


def on_change_committed(name: str, listener: Listener) -> None:
    """Register (or replace, by name) a listener run after commit; one failing does not stop the others."""
    _after_commit[name] = listener


async def run_in_transaction(change: Change) -> None:
    """Call every in-transaction listener; an exception rolls the change back."""
    for listener in list(_in_transaction.values()):
        await listener(change)


async def run_after_commit(change: Change) -> None:
    """Call every after-commit listener, each isolated: failures are logged, never raised."""
    for listener in list(_after_commit.values()):
        try:
            await listener(change)
        except Exception:  # noqa: BLE001 - isolation is the point
            log.exception("after-commit listener %r failed for %s of appointment %s", listener, change.action, change.appointment.id)
