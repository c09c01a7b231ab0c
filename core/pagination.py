"""Keyset pagination: stable pages over any ordering, with opaque cursors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core.errors import ValidationFailed

T = TypeVar("T")
MAX_PAGE = 100


@dataclass
class Page(Generic[T]):
    """One page of items, each with its cursor, and whether more follow."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the ordering values of one row."""
    return base64.urlsafe_b64encode(json.dumps(list(values), default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """The ordering values in a cursor, or `ValidationFailed` on field `after`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise ValidationFailed("after", "Not a cursor from this list.") from None
    if not isinstance(values, list) or len(values) != size or not all(isinstance(v, (str, int)) for v in values):
        raise ValidationFailed("after", "Not a cursor from this list.")
    return values


def _check_cursor_types(query: QuerySet, order: Sequence[str], values: Sequence[Any]) -> None:
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
            raise ValidationFailed("after", "Not a cursor from this list.")


def _after(order: Sequence[str], values: Sequence[Any], descending: bool = False) -> Q:
    clauses = []
    for i, name in enumerate(order):
        equal = {order[j]: values[j] for j in range(i)}
        clauses.append(Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[i]}))
    return Q(*clauses, join_type="OR")


def check_first(first: int | None, default: int = 50) -> int:
    """The page size asked for, within 1..MAX_PAGE."""
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE:
        raise ValidationFailed("first", f"Ask for 1 to {MAX_PAGE} items.")
    return size


async def keyset_page(
    query: QuerySet,
    order: Sequence[str],
    first: int | None,
    after: str | None,
    decoders: Mapping[str, Callable[[Any], Any]] | None = None,
    descending: bool = False,
) -> Page:
    """The page of `query` (by `order`, whose last field is unique; ascending unless `descending`)
    after a cursor; `decoders` turn cursor values back into field values (ISO text into datetimes)."""
    size = check_first(first)
    if after:
        values = decode_cursor(after, len(order))
        _check_cursor_types(query, order, values)
        try:
            values = [(decoders or {}).get(name, lambda v: v)(v) for name, v in zip(order, values)]
        except (ValueError, TypeError, OverflowError):
            raise ValidationFailed("after", "Not a cursor from this list.") from None
        query = query.filter(_after(order, values, descending))
    rows = await query.order_by(*(f"-{name}" if descending else name for name in order)).limit(size + 1)
    items = rows[:size]
    cursors = [encode_cursor([_plain(getattr(row, name)) for name in order]) for row in items]
    return Page(items=items, cursors=cursors, has_next_page=len(rows) > size, has_previous_page=bool(after))
