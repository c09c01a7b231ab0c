"""Hand-written SQL for the hottest queries: ORM query building and row conversion cost several
times more than the query itself there. Portable across SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.models import Model

from core.instants import utc

M = TypeVar("M", bound=Model)


def connection():
    """The default database connection (the current transaction's, inside one)."""
    return connections.get("default")


def params(conn, count: int) -> list[str]:
    """The dialect's positional parameter markers: ?, ? ... or $1, $2 ..."""
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(1, count + 1)]
    return ["?"] * count


def true(conn) -> str:
    """The dialect's literal for true."""
    return "TRUE" if conn.capabilities.dialect == "postgres" else "1"


def instant(value: Any) -> dt.datetime:
    """A UTC datetime from a stored timestamp (SQLite gives ISO text, PostgreSQL datetimes)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _param(conn, value: Any) -> Any:
    # Instants are compared in UTC (core.instants); SQLite compares them as text, in Tortoise's stored format.
    if isinstance(value, dt.datetime):
        value = utc(value)
        return value if conn.capabilities.dialect == "postgres" else str(value)
    return value


async def rows(sql: str, values: list[Any]) -> list[dict]:
    """Run a query with `{0}`, `{1}`... standing for parameters and `{true}` for true."""
    conn = connection()
    query = sql.format(*params(conn, len(values)), true=true(conn))
    return await conn.execute_query_dict(query, [_param(conn, v) for v in values])


@cache
def _columns(model: type[Model]) -> tuple[str, ...]:
    return tuple(sorted(model._meta.db_fields))


def columns(model: type[Model], alias: str) -> str:
    """The select list of every column of `model`'s table under `alias`, named `alias.column`,
    for `instance` to read back: several models from one joined row."""
    return ", ".join(f'{alias}."{c}" AS "{alias}.{c}"' for c in _columns(model))


def instance(model: type[M], row: dict, alias: str) -> M:
    """The model instance in a row selected with `columns(model, alias)`, converted exactly as
    the ORM converts its own rows (no query)."""
    return model._init_from_db(**{c: row[f"{alias}.{c}"] for c in _columns(model)})
