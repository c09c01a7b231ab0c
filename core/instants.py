"""Instants on their way into the database: in UTC, never naive.

SQLite stores a datetime as text with whatever UTC offset it carries and compares that text, so
one instant written in two offsets sorts and filters as two different times (PostgreSQL compares
instants). Every datetime column uses `DatetimeField`, which converts what the ORM saves, updates
and filters by; hand-written SQL converts its parameters with `utc` (`core.sql`). Stored text is
then always tortoise's `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`, which sorts as time does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tortoise import fields


def utc(value: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive datetime names no instant and is refused (ValueError)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"The datetime {value} has no UTC offset: give it one (e.g. tzinfo=timezone.utc).")
    return value.astimezone(dt.UTC)


class DatetimeField(fields.DatetimeField):
    """tortoise's DatetimeField, stored and compared in UTC; naive datetimes are refused, not
    silently taken as UTC. It keeps tortoise's class name: migrations describe a field by its
    class name and SQL type, so models using it need no migration of their own."""

    def to_python_value(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            value = utc(value)  # given by code (the database gives text on SQLite, UTC on PostgreSQL)
        return super().to_python_value(value)

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if isinstance(value, dt.datetime):
            value = utc(value)
        value = super().to_db_value(value, instance)
        return utc(value) if isinstance(value, dt.datetime) else value
