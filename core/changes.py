"""What happened to an appointment: the `Change` the change hooks receive (`appointment_changing`
inside the booking transaction, `appointment_changed` after commit; see core/plugins/hookspecs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.security.access import Actor


@dataclass
class Change:
    """One change: the action, the appointment after it, its fields before, the actor."""

    action: str  # BOOKED, CONFIRMED, RESCHEDULED, CANCELLED, COMPLETED, NO_SHOW
    appointment: Any
    before: dict
    actor: Actor
