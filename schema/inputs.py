"""Turning GraphQL arguments into core arguments: ids, partial updates, result unions."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Union

import strawberry

from core.errors import NotFound, ValidationCode, ValidationFailed
from core.validation import Problems, whole_number
from schema.errors import NotFound as NotFoundType, PermissionDenied, ValidationError

MAX_ID = 2**31 - 1


def parse_id(kind: str, value: Any) -> int:
    """A numeric object id from a GraphQL ID; anything else is `NotFound`."""
    number = whole_number(str(value).strip())
    if number is None or not 0 < number <= MAX_ID:
        raise NotFound(kind, value)
    return number


def parse_ids(kind: str, values: list[Any] | None) -> list[int] | None:
    """A list of object ids, or None when not given."""
    return None if values is None else [parse_id(kind, v) for v in values]


def one_or_list(one: Any, many: list[Any] | None, field: str) -> list[Any] | None:
    """A filter given as one value or as a list `field` (not both): the values, or None when neither."""
    if one is not None and many is not None:
        raise ValidationFailed(field, f"Give `{field}` or its single form, not both.")
    return many if one is None else [one]


def camel(name: str) -> str:
    """snake_case to the camelCase GraphQL name."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def provided(data: Any, nullable: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of an input object that the caller set (not UNSET), by snake_case name;
    null is refused (every such field at once) except for the `nullable` fields."""
    values, problems = {}, Problems()
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if value is strawberry.UNSET:
            continue
        if value is None and f.name not in nullable:
            problems.add(camel(f.name), "Cannot be null.", ValidationCode.REQUIRED)
        values[f.name] = value
    problems.raise_any()
    return values


def result(name: str, *types: type) -> Any:
    """A result union of these types and the standard errors."""
    members = (*types, ValidationError, NotFoundType, PermissionDenied)
    return Annotated[Union[members], strawberry.union(name)]  # noqa: UP007 - a union of a tuple built at run time
