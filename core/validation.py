"""Checks of single input values; each raises `ValidationFailed` naming the field."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies

from core.errors import FieldProblem, ValidationCode as Code, ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{3,40}$")
HHMM_RE = re.compile(r"^(\d{2}):(\d{2})$", re.ASCII)
# Never text: C0 controls but tab and line feed, a carriage return not before a line feed, DEL,
# C1 controls, lone surrogates (no UTF-8 can carry them) and noncharacters.
_NONCHARACTERS = "".join(rf"\U{plane:04X}FFFE\U{plane:04X}FFFF" for plane in range(17))
NOT_TEXT_RE = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]|\r(?!\n)")
LINE_BREAK_RE = re.compile("[\t\n\r\u2028\u2029]")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone(field: str, value: str) -> str:
    """An IANA timezone name such as `Europe/London`."""
    if value not in _timezones():
        raise ValidationFailed(
            field, f"{value!r} is not an IANA timezone such as 'Europe/London'.", Code.INVALID_FORMAT
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            field, f"{value!r} is not an IANA timezone such as 'Europe/London'.", Code.INVALID_FORMAT
        ) from None
    return value


def currency(field: str, value: str) -> str:
    """An ISO 4217 currency code such as `EUR`; returned upper-case."""
    code = value.strip().upper()
    if len(code) != 3 or code not in list_currencies():
        raise ValidationFailed(field, f"{value!r} is not an ISO 4217 currency code such as 'EUR'.", Code.INVALID_FORMAT)
    return code


def locale(field: str, value: str) -> str:
    """A locale identifier such as `en_GB` or `de`."""
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationFailed(
            field, f"{value!r} is not a known locale such as 'en_GB'.", Code.INVALID_FORMAT
        ) from None


def plain_text(field: str, value: str, *, multiline: bool = False) -> str:
    """Text a person can type: no control characters, lone surrogates or noncharacters. A
    `multiline` field keeps line breaks and tabs (CR LF becomes LF); any other field is one line,
    without them. Returned as given otherwise."""
    found = NOT_TEXT_RE.search(value)
    if found:
        raise ValidationFailed(
            field, f"Control characters are not allowed ({_at(value, found)}).", Code.INVALID_CHARACTERS
        )
    if multiline:
        return value.replace("\r\n", "\n")
    found = LINE_BREAK_RE.search(value)
    if found:
        raise ValidationFailed(
            field,
            f"This field is one line: line breaks and tabs are not allowed ({_at(value, found)}).",
            Code.INVALID_CHARACTERS,
        )
    return value


def _at(value: str, found: re.Match) -> str:
    return f"U+{ord(value[found.start()]):04X} at character {found.start() + 1}"


def text(field: str, value: str, *, max_length: int, required: bool = True, multiline: bool = False) -> str:
    """Trimmed plain text (see `plain_text`), not blank when required, at most `max_length` characters."""
    cleaned = plain_text(field, value, multiline=multiline).strip()
    if required and not cleaned:
        raise ValidationFailed(field, "This field is required.", Code.REQUIRED)
    if len(cleaned) > max_length:
        raise ValidationFailed(field, f"At most {max_length} characters.", Code.TOO_LONG)
    return cleaned


def email(field: str, value: str, *, required: bool = True) -> str:
    """An email address (trimmed); empty is allowed only when not required."""
    cleaned = value.strip()
    if not cleaned and not required:
        return ""
    if len(cleaned) > 254 or not EMAIL_RE.match(cleaned):
        raise ValidationFailed(field, f"{value!r} is not a valid email address.", Code.INVALID_FORMAT)
    return cleaned


def phone(field: str, value: str) -> str:
    """A phone number of digits, spaces and + ( ) . / - ; empty is allowed."""
    cleaned = value.strip()
    if cleaned and not PHONE_RE.match(cleaned):
        raise ValidationFailed(field, f"{value!r} is not a valid phone number.", Code.INVALID_FORMAT)
    return cleaned


EARLIEST, LATEST = dt.datetime(2000, 1, 2, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def instant(field: str, value: dt.datetime) -> dt.datetime:
    """An aware datetime between the years 2000 and 2200 (far enough for any diary, and safe to
    shift by days or time zones); returned as given."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(field, "Give the time with a UTC offset.", Code.INVALID_FORMAT)
    if not EARLIEST <= value <= LATEST:
        raise ValidationFailed(field, "Give a date between the years 2000 and 2200.", Code.OUT_OF_RANGE)
    return value


def whole_number(value: object, max_digits: int = 9) -> int | None:
    """The int of a string of ASCII digits (at most `max_digits`), else None (no signs, spaces
    or other scripts' digits)."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None


def minutes(field: str, value: int, *, minimum: int = 0, maximum: int = 24 * 60) -> int:
    """A whole number of minutes within [minimum, maximum]."""
    if value < minimum:
        raise ValidationFailed(field, f"Must be at least {minimum} minutes.", Code.OUT_OF_RANGE)
    if value > maximum:
        raise ValidationFailed(field, f"Must be at most {maximum} minutes.", Code.OUT_OF_RANGE)
    return value


def money(field: str, value: Decimal) -> Decimal:
    """A non-negative amount with at most two decimals."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(field, "Not a number.", Code.INVALID_FORMAT) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(field, "Must be zero or more.", Code.OUT_OF_RANGE)
    # Before quantizing: quantizing a huge amount raises InvalidOperation.
    if amount >= Decimal("1e10"):
        raise ValidationFailed(field, "Too large.", Code.OUT_OF_RANGE)
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(field, "At most two decimal places.", Code.INVALID_FORMAT)
    return amount.quantize(Decimal("0.01")).copy_abs()  # copy_abs: no "-0.00"


def clock_time(field: str, value: str) -> int:
    """Local wall-clock `HH:MM` (00:00 to 24:00) as minutes since midnight."""
    match = HHMM_RE.match(value.strip())
    if not match:
        raise ValidationFailed(field, f"{value!r} is not a time written HH:MM.", Code.INVALID_FORMAT)
    hours, mins = int(match.group(1)), int(match.group(2))
    if mins > 59 or hours > 24 or (hours == 24 and mins):
        raise ValidationFailed(field, f"{value!r} is not a time between 00:00 and 24:00.", Code.OUT_OF_RANGE)
    return hours * 60 + mins


def format_clock(minute: int) -> str:
    """Minutes since midnight as `HH:MM`."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


class Problems:
    """Collects the problems of several inputs, so that one refusal reports them all."""

    def __init__(self) -> None:
        self.found: list[FieldProblem] = []

    @contextmanager
    def checking(self) -> Iterator[None]:
        """Run a check; a `ValidationFailed` inside is recorded instead of raised."""
        try:
            yield
        except ValidationFailed as error:
            self.found.extend(error.problems)

    def add(self, field: str, message: str, code: Code = Code.INVALID) -> None:
        """Record one problem."""
        self.found.append(FieldProblem(field, message, Code(code)))

    def raise_any(self) -> None:
        """Raise one `ValidationFailed` with every problem recorded, if there is any."""
        if self.found:
            raise ValidationFailed.of(self.found)


def clean_all(
    cleaners: dict[str, Callable[[Any], Any]], values: dict[str, Any], required: tuple[tuple[str, str], ...] = ()
) -> dict[str, Any]:
    """Each value through the cleaner of its key; each `required` (key, field) must be given (not
    None or empty). Every problem is reported at once, missing ones first."""
    problems, cleaned = Problems(), {}
    missing = {key for key, _ in required if values.get(key) in (None, "")}
    for key, field in required:
        if key in missing:
            problems.add(field, "This field is required.", Code.REQUIRED)
    for key, value in values.items():
        if key not in missing:
            with problems.checking():
                cleaned[key] = cleaners[key](value)
    problems.raise_any()
    return cleaned
