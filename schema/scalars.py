"""Scalars: DateTime refuses values without a UTC offset (a naive time is ambiguous)."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise StrawberryInputCoercionError(f'Value cannot represent a DateTime: "{value}". Expected a string.')
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}". Use ISO 8601 such as 2026-03-01T09:00:00+01:00.'
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise StrawberryInputCoercionError(f'DateTime "{value}" has no UTC offset. Add one, such as +01:00 or Z.')
    return parsed


DateTime = strawberry.scalar(
    name="DateTime",
    description="An instant in ISO 8601 with a UTC offset, e.g. 2026-03-01T09:00:00+01:00. Values without an offset are refused.",
    serialize=lambda value: value.isoformat(),
    parse_value=_parse_datetime,
)

SCALAR_MAP = {dt.datetime: DateTime}
