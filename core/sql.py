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


def _postgres(conn) -> bool:
    return conn.capabilities.dialect == "postgres"


def params(conn, count: int) -> list[str]:
    """The dialect's numbered parameter markers (?1, ?2 ... or $1, $2 ...): one may appear twice."""
    return [f"{'$' if _postgres(conn) else '?'}{i}" for i in range(1, count + 1)]


def true(conn) -> str:
    """The dialect's literal for true."""
    return "TRUE" if _postgres(conn) else "1"


def skip_locked(conn) -> str:
    """`FOR UPDATE SKIP LOCKED` where the dialect has it (on SQLite a write holds the whole database)."""
    return " FOR UPDATE SKIP LOCKED" if _postgres(conn) else ""


def instant(value: Any) -> dt.datetime:
    """A UTC datetime from a stored timestamp (SQLite gives ISO text, PostgreSQL datetimes)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _param(conn, value: Any) -> Any:
    # Instants in UTC (core.instants): SQLite compares tortoise's stored text, which is UTC.
    if isinstance(value, dt.datetime):
        value = utc(value)
        return value if _postgres(conn) else str(value)
    return value


async def rows(sql: str, values: list[Any]) -> list[dict]:
    """Run a query with `{0}`, `{1}`... standing for parameters (each may appear more than once),
    `{true}` for true and `{skip_locked}` for `FOR UPDATE SKIP LOCKED` where there is one."""
    conn = connection()
    query = sql.format(*params(conn, len(values)), true=true(conn), skip_locked=skip_locked(conn))
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
