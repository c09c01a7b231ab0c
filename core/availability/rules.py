"""Scheduling rules: one source of truth for every channel. Pure functions, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from core import validation as check
from core.errors import RuleViolation, ValidationCode, ValidationFailed


class RuleCode(StrEnum):
    """The codes of core's scheduling rules, as `RuleViolation.rule` carries them (plugins add their own)."""

    MIN_NOTICE = "MIN_NOTICE"
    MAX_ADVANCE = "MAX_ADVANCE"
    SAME_DAY_CHANGE = "SAME_DAY_CHANGE"
    CANCELLATION_NOTICE = "CANCELLATION_NOTICE"
    RESCHEDULE_NOTICE = "RESCHEDULE_NOTICE"
    MAX_RESCHEDULES = "MAX_RESCHEDULES"


RULE_CODES = tuple(code.value for code in RuleCode)  # the one list of core's rule codes


@dataclass(frozen=True)
class Rules:
    """The rules of a location, possibly with a service's overrides applied."""

    min_notice_minutes: int = 0
    max_advance_days: int = 365
    same_day_changes_allowed: bool = True
    cancellation_notice_hours: int = 0
    cancellation_policy: str = ""
    reschedule_notice_hours: int = 0
    max_customer_reschedules: int | None = None
    cancellation_reasons: tuple[str, ...] = ()
    cancellation_reason_required: bool = False

    @classmethod
    def of(cls, location, overrides: dict | None = None) -> Rules:
        """The rules stored on a location row, with a service's overrides on top."""
        values = {f.name: getattr(location, f.name) for f in fields(cls)}
        values["cancellation_reasons"] = tuple(values["cancellation_reasons"] or ())
        rules = cls(**values)
        return rules.overridden(overrides or {})

    def overridden(self, overrides: dict) -> Rules:
        """These rules with some fields replaced (unknown keys ignored)."""
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in overrides.items() if k in known}
        if "cancellation_reasons" in values:
            values["cancellation_reasons"] = tuple(values["cancellation_reasons"] or ())
        return replace(self, **values)


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of an instant at a location."""
    return instant.astimezone(tz).date()


def check_new_start(rules: Rules, start: dt.datetime, now: dt.datetime) -> None:
    """A booked or rescheduled start respects minimum notice and maximum advance."""
    if start < now + dt.timedelta(minutes=rules.min_notice_minutes):
        raise RuleViolation(
            RuleCode.MIN_NOTICE, f"Appointments must be made at least {_duration(rules.min_notice_minutes)} ahead."
        )
    if start > now + dt.timedelta(days=rules.max_advance_days):
        raise RuleViolation(
            RuleCode.MAX_ADVANCE, f"Appointments can be made at most {rules.max_advance_days} days ahead."
        )


def check_same_day(rules: Rules, current_start: dt.datetime, now: dt.datetime, tz: ZoneInfo, contact: str) -> None:
    """Refuse a change on the appointment's own day when same-day changes are off."""
    if not rules.same_day_changes_allowed and local_date(now, tz) == local_date(current_start, tz):
        raise RuleViolation(
            RuleCode.SAME_DAY_CHANGE, f"Changes on the day of the appointment are not possible online.{_call(contact)}"
        )


def check_cancel(rules: Rules, current_start: dt.datetime, now: dt.datetime, tz: ZoneInfo, contact: str) -> None:
    """Same-day and cancellation-notice rules for a cancellation."""
    check_same_day(rules, current_start, now, tz, contact)
    if rules.cancellation_notice_hours and now > current_start - dt.timedelta(hours=rules.cancellation_notice_hours):
        policy = f" {rules.cancellation_policy.strip()}" if rules.cancellation_policy.strip() else ""
        raise RuleViolation(
            RuleCode.CANCELLATION_NOTICE,
            f"Appointments can be cancelled up to {rules.cancellation_notice_hours} hours before they start.{policy}{_call(contact)}",
        )


def check_reschedule(
    rules: Rules,
    current_start: dt.datetime,
    now: dt.datetime,
    tz: ZoneInfo,
    contact: str,
    customer_reschedules: int | None,
) -> None:
    """Same-day, reschedule-notice and (for customers) maximum-reschedules rules."""
    check_same_day(rules, current_start, now, tz, contact)
    if rules.reschedule_notice_hours and now > current_start - dt.timedelta(hours=rules.reschedule_notice_hours):
        raise RuleViolation(
            RuleCode.RESCHEDULE_NOTICE,
            f"Appointments can be moved up to {rules.reschedule_notice_hours} hours before they start.{_call(contact)}",
        )
    limit = rules.max_customer_reschedules
    if customer_reschedules is not None and limit is not None and customer_reschedules >= limit:
        raise RuleViolation(
            RuleCode.MAX_RESCHEDULES,
            f"This appointment has been moved the most times allowed online ({limit}).{_call(contact)}",
        )


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0 and minutes:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0 and minutes:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _call(contact: str) -> str:
    return f" Please call us on {contact}." if contact else ""


def clean_rule_fields(changes: dict) -> dict:
    """Validate rule fields given by name (camelCase names in errors)."""

    def whole(field: str, low: int, high: int):
        def clean(value):
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValidationFailed(
                    field, f"Must be a whole number from {low} to {high}.", ValidationCode.OUT_OF_RANGE
                )
            return value

        return clean

    def reasons(value):
        if len(value) > 50:
            raise ValidationFailed("cancellationReasons", "At most 50 reasons, each once.", ValidationCode.OUT_OF_RANGE)
        problems, cleaned = check.Problems(), []
        for index, reason in enumerate(value):
            with problems.checking():
                text = check.text(f"cancellationReasons[{index}]", reason, max_length=200)
                if text in cleaned:
                    raise ValidationFailed(
                        f"cancellationReasons[{index}]", "This reason is given twice.", ValidationCode.DUPLICATE
                    )
                cleaned.append(text)
        problems.raise_any()
        return cleaned

    def optional_limit(value):
        return None if value is None else whole("maxCustomerReschedules", 0, 100)(value)

    cleaners = {
        "min_notice_minutes": whole("minNoticeMinutes", 0, 525_600),
        "max_advance_days": whole("maxAdvanceDays", 1, 3650),
        "same_day_changes_allowed": bool,
        "cancellation_notice_hours": whole("cancellationNoticeHours", 0, 8760),
        "cancellation_policy": lambda v: check.text(
            "cancellationPolicy", v, max_length=2000, required=False, multiline=True
        ),
        "reschedule_notice_hours": whole("rescheduleNoticeHours", 0, 8760),
        "max_customer_reschedules": optional_limit,
        "cancellation_reasons": reasons,
        "cancellation_reason_required": bool,
    }
    return check.clean_all(cleaners, changes)
