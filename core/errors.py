"""Errors the caller can act on. Core raises them; the API turns each into a typed result."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DomainError(Exception):
    """Base of every expected refusal; raising one inside a transaction rolls it back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationCode(StrEnum):
    """What kind of problem an input has (the API's `ValidationError.code`)."""

    INVALID = "INVALID"  # the default: malformed or breaking an invariant not listed below
    REQUIRED = "REQUIRED"  # missing, blank or null
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    INVALID_FORMAT = "INVALID_FORMAT"  # not an email, phone, time zone, colour, HH:MM, cursor...
    INVALID_CHARACTERS = "INVALID_CHARACTERS"  # control characters, or line breaks in a one-line field
    OUT_OF_RANGE = "OUT_OF_RANGE"  # a number, date or count outside its bounds
    INVALID_CHOICE = "INVALID_CHOICE"  # not one of the values offered (an event, a reason, a service here)
    DUPLICATE = "DUPLICATE"  # the same value twice in one input
    TAKEN = "TAKEN"  # already used by another object (an email, a portal address)
    NOT_EDITABLE = "NOT_EDITABLE"  # shared from the headquarters; change it there
    WEAK_PASSWORD = "WEAK_PASSWORD"  # common or easy to guess
    INCORRECT = "INCORRECT"  # does not match (current password, password confirmation)


@dataclass(frozen=True)
class FieldProblem:
    """One problem of one input: its path (camelCase, list indices: `staffNotices[2].event`),
    what is wrong in words, and its kind."""

    field: str
    message: str
    code: ValidationCode = ValidationCode.INVALID


class ValidationFailed(DomainError):
    """Input is malformed or breaks an invariant; `field` names the input path at fault, `code`
    the kind of problem. `problems` lists every problem found at once (the first is `field`)."""

    def __init__(self, field: str, message: str, code: ValidationCode = ValidationCode.INVALID) -> None:
        super().__init__(message)
        self.field = field
        self.code = ValidationCode(code)
        self.problems = [FieldProblem(field, message, self.code)]

    @classmethod
    def of(cls, problems: list[FieldProblem]) -> ValidationFailed:
        """One refusal reporting several problems (at least one)."""
        first = problems[0]
        error = cls(first.field, first.message, first.code)
        error.problems = list(problems)
        return error


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    def __init__(self, kind: str, id: object = None) -> None:
        super().__init__(f"{kind} not found." if id is None else f"{kind} {id} not found.")
        self.kind = kind


class PermissionDenied(DomainError):
    """The caller is not signed in, or not allowed to do this."""

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class InvalidCredentials(DomainError):
    """Email or password is wrong; the same answer whichever of the two it was."""

    def __init__(self) -> None:
        super().__init__("The email or password is incorrect.")


class RateLimited(DomainError):
    """Too many attempts; try again after `retry_after` seconds. `reason` says which limit engaged,
    in words for the person refused (pages show it; the message adds the wait)."""

    FROM_YOUR_NETWORK = "There were too many attempts from your network."
    AT_THIS_LINK = (
        "This link has had too many attempts from several networks, so it is paused for everyone for a "
        "while. If this keeps happening, contact whoever sent you the link."
    )
    AT_THIS_ACCOUNT = (
        "Signing in with this email address is paused for a while: it had too many attempts from several networks."
    )

    def __init__(self, retry_after: float, reason: str = FROM_YOUR_NETWORK) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(f"{reason} Try again in {seconds} seconds.")
        self.retry_after = seconds
        self.reason = reason


class RuleViolation(DomainError):
    """A scheduling rule refuses the change; `rule` is its code (MIN_NOTICE, ...)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class SlotUnavailable(DomainError):
    """The time is taken, or the calendar is not working then."""

    def __init__(self, message: str = "That time is no longer available.") -> None:
        super().__init__(message)


class InvalidTransition(DomainError):
    """The appointment's status does not allow this action."""

    def __init__(self, status: str, action: str, message: str | None = None) -> None:
        super().__init__(message or f"A {status.lower().replace('_', ' ')} appointment cannot be {action}.")
        self.status = status
        self.action = action


class StaleAppointment(DomainError):
    """The appointment changed since the caller read it (its sequence moved on)."""

    def __init__(self, current_sequence: int) -> None:
        super().__init__("This appointment was changed meanwhile. Reload it and try again.")
        self.current_sequence = current_sequence


class LinkUnavailable(DomainError):
    """A link that was used, has expired or was revoked: it keeps answering, with the owner's
    contact, so the person knows whom to ask (HTTP 410 on pages)."""

    STATUSES = ("USED", "EXPIRED", "REVOKED")

    def __init__(
        self,
        status: str,
        message: str,
        owner_name: str = "",
        owner_email: str = "",
        owner_phone: str = "",
        location_id: int | None = None,
    ) -> None:
        if status not in self.STATUSES:
            raise ValueError(f"status must be one of {self.STATUSES}")
        super().__init__(message)
        self.status = status
        self.owner_name = owner_name
        self.owner_email = owner_email
        self.owner_phone = owner_phone
        self.location_id = location_id  # for pages: the branding to show it in


class QueryTooCostly(DomainError):
    """A request asks for more slot work than its budget: `cost` is the request's estimated cost
    (core.availability.cost), `budget` the most it may spend. Refused before any slot is computed."""

    def __init__(self, cost: int, budget: int) -> None:
        super().__init__(
            f"This asks for too many free times at once (estimated cost {cost}, budget {budget}). "
            "Ask for fewer days, one calendar, or fewer slot fields in one request."
        )
        self.cost = cost
        self.budget = budget


class SettingsError(Exception):
    """The configuration cannot be used; the message says what to change (core.settings)."""
