"""Plugin settings refused by their pydantic model, as the API's field problems: every problem at
once, each at its full path (`settings.newAppointmentAddresses[2]`), with a code and without
pydantic's "Value error, " prefix."""

from __future__ import annotations

from pydantic import ValidationError as PydanticValidationError

from core.errors import FieldProblem, ValidationCode

# pydantic error types (https://docs.pydantic.dev/latest/errors/validation_errors/) by our code
_CODES = {
    ValidationCode.REQUIRED: ("missing", "none_required"),
    ValidationCode.TOO_SHORT: ("string_too_short", "too_short"),
    ValidationCode.TOO_LONG: ("string_too_long", "too_long"),
    ValidationCode.OUT_OF_RANGE: ("greater_than", "greater_than_equal", "less_than", "less_than_equal", "multiple_of"),
    ValidationCode.INVALID_CHOICE: ("literal_error", "enum", "extra_forbidden"),
}
CODES = {kind: code for code, kinds in _CODES.items() for kind in kinds}


class SettingInvalid(ValueError):
    """Raise in a settings model's validator to refuse a value with a code (plain `ValueError`s
    are `INVALID`); pydantic reports it at the value's path."""

    def __init__(self, message: str, code: ValidationCode = ValidationCode.INVALID) -> None:
        super().__init__(message)
        self.code = ValidationCode(code)


def setting_problems(error: PydanticValidationError, root: str = "settings") -> list[FieldProblem]:
    """Every problem pydantic found, as field problems under `root`."""
    problems = []
    for problem in error.errors(include_url=False):
        path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in problem["loc"])
        cause = problem.get("ctx", {}).get("error")
        if problem["type"] == "value_error" and cause is not None:
            message, code = str(cause), getattr(cause, "code", ValidationCode.INVALID)
        else:
            message, code = problem["msg"], _code(problem["type"])
        problems.append(FieldProblem(f"{root}{path}", message, code))
    return problems


def _code(kind: str) -> ValidationCode:
    if kind in CODES:
        return CODES[kind]
    return (
        ValidationCode.INVALID_FORMAT
        if kind.endswith(("_type", "_parsing")) or "pattern" in kind
        else ValidationCode.INVALID
    )
