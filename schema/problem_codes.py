"""`ErrorCode`: the one enum of every problem's `code`, so a client maps problems to its own words
with one switch. Built from core's lists: validation kinds (core.errors.ValidationCode) and rule
codes (core.availability.rules.RULE_CODES), then one code per other problem type."""

from __future__ import annotations

from enum import Enum

import strawberry

from core.availability.rules import RULE_CODES
from core.errors import ValidationCode

# One per problem type that is not a ValidationError or a core RuleViolation.
PROBLEM_CODES = (
    "NOT_FOUND",
    "PERMISSION_DENIED",
    "INVALID_CREDENTIALS",
    "RATE_LIMITED",
    "QUERY_TOO_COSTLY",
    "SLOT_UNAVAILABLE",
    "INVALID_TRANSITION",
    "STALE_APPOINTMENT",
    "PLUGIN_DISABLED",
    "NOT_ELIGIBLE",
    "LINK_UNAVAILABLE",
    "NOT_SIGNED_IN",
    "EMAIL_NOT_VERIFIED",
    "PASSWORD_SIGN_IN_REQUIRED",
    "PLUGIN_RULE",  # a RuleViolation raised by a plugin: its own code is in `rule`
    "PLUGIN_PROBLEM",  # a plugin's own problem type: its `__typename` says which
)

CODES = (*(code.value for code in ValidationCode), *RULE_CODES, *PROBLEM_CODES)

ErrorCode = strawberry.enum(
    Enum("ErrorCode", {code: code for code in CODES}),
    description="What went wrong, for a program. ValidationError: REQUIRED, TOO_SHORT, TOO_LONG, INVALID_FORMAT, "
    "INVALID_CHARACTERS, OUT_OF_RANGE, INVALID_CHOICE, DUPLICATE, TAKEN, NOT_EDITABLE, WEAK_PASSWORD, INCORRECT, INVALID. "
    f"RuleViolation: {', '.join(RULE_CODES)} (core's rules) or PLUGIN_RULE (a plugin's rule, named by `rule`). "
    "Every other problem type has its own code (NotFound: NOT_FOUND, ...); a plugin's own problem types PLUGIN_PROBLEM unless they say otherwise.",
)
