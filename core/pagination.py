"""Keyset pagination: stable pages over any ordering, with opaque cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE = 100


@dataclass(frozen=True)
class Paging:
    """What a client asks of a list: the `first` items after a cursor, or the `last` items before one."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class Page(Generic[T]):
    """One page of items in the list's order, each with its cursor, whether more lie on either
    side, and `count()`: an awaitable of how many items the whole filtered list holds (run only
    when awaited)."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the ordering values of one row."""
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int, argument: str = "after") -> list[Any]:
    """The ordering values in a cursor, or `ValidationFailed` on `argument` (the one that carried it)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise ValidationFailed(argument, "Not a cursor from this list.") from None
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, (str, int)) for v in values):
        raise ValidationFailed(argument, "Not a cursor from this list.")
    return values


def _check_cursor_types(query: QuerySet, order: Sequence[str], values: Sequence[Any], argument: str) -> None:
    """Refuse a forged cursor whose values the ordering columns cannot hold (a wrong type,
    or an integer out of the column's range would otherwise fail inside the database)."""
    fields = query.model._meta.fields_map
    for name, value in zip(order, values):
        field = fields[name]
        if field.field_type is int:
            low, high = field.constraints.get("ge", value), field.constraints.get("le", value)
            fits = type(value) is int and low <= value <= high
        elif field.field_type is str:
            fits = isinstance(value, str)
        else:
            fits = True
        if not fits:
            raise ValidationFailed(argument, "Not a cursor from this list.")


def _beyond(order: Sequence[str], values: Sequence[Any], descending: bool) -> Q:
    """Rows after `values` in `order` (ascending, or descending when `descending`)."""
    clauses = []
    for i, name in enumerate(order):
        equal = {order[j]: values[j] for j in range(i)}
        clauses.append(Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[i]}))
    return Q(*clauses, join_type="OR")


def _cursor_values(
    query: QuerySet,
    order: Sequence[str],
    cursor: str,
    argument: str,
    decoders: Mapping[str, Callable[[Any], Any]] | None,
) -> list[Any]:
    """The field values a cursor given as `argument` points at, or `ValidationFailed` on `argument`."""
    values = decode_cursor(cursor, len(order), argument)
    _check_cursor_types(query, order, values, argument)
    try:
        return [(decoders or {}).get(name, lambda v: v)(v) for name, v in zip(order, values)]
    except (ValueError, TypeError, OverflowError):
        raise ValidationFailed(argument, "Not a cursor from this list.") from None


def check_size(paging: Paging, default: int = 50) -> int:
    """The page size asked for (`first` or `last`, not both), within 1..MAX_PAGE."""
    if paging.first is not None and paging.last is not None:
        raise ValidationFailed("last", "Ask for the `first` items or the `last` ones, not both.")
    field, size = ("last", paging.last) if paging.last is not None else ("first", paging.first)
    size = default if size is None else size
    if not 1 <= size <= MAX_PAGE:
        raise ValidationFailed(field, f"Ask for 1 to {MAX_PAGE} items.")
    return size


async def keyset_page(
    query: QuerySet,
    order: Sequence[str],
    paging: Paging,
    decoders: Mapping[str, Callable[[Any], Any]] | None = None,
    descending: bool = False,
) -> Page:
    """The page of `query` (by `order`, whose last field is unique; ascending unless `descending`)
    between the cursors `after` and `before`: its first items, or its last ones when `paging.last`
    is set (read in reverse, returned in the list's order). `decoders` turn cursor values back into
    field values (ISO text into datetimes)."""
    size = check_size(paging)
    counted = query
    for field, cursor, toward_start in (("after", paging.after, False), ("before", paging.before, True)):
        if cursor:
            values = _cursor_values(query, order, cursor, field, decoders)
            query = query.filter(_beyond(order, values, descending != toward_start))
    backwards = paging.last is not None
    reverse = descending != backwards
    rows = list(await query.order_by(*(f"-{name}" if reverse else name for name in order)).limit(size + 1))
    items, more = rows[:size], len(rows) > size
    if backwards:
        items.reverse()
    cursors = [encode_cursor([_plain(getattr(row, name)) for name in order]) for row in items]
    return Page(
        items=items,
        cursors=cursors,
        has_next_page=bool(paging.before) if backwards else (more or bool(paging.before)),
        has_previous_page=(more or bool(paging.after)) if backwards else bool(paging.after),
        count=counted.count,
    )
