"""An appointment with everything a customer's page about it shows, loaded in one hand-written
statement (about 5x faster than the ORM's queries on these hot paths, see bench/graphql.py), and
the history of its changes. Plugins reach core's tables through these functions, never by name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Generic, TypeVar

from tortoise.models import Model

from core import sql
from core.models import ActorKind, Appointment, AppointmentEvent, Calendar, Location, PluginActivation, Service

M = TypeVar("M", bound=Model)
_PARTS = (("a", Appointment), ("l", Location), ("s", Service), ("c", Calendar))


@dataclass
class AppointmentVia(Generic[M]):
    """A row of a plugin's table (`via`) and the appointment it refers to, with its location,
    service, calendar and the location's plugin activations (its allow-list and plugin settings)."""

    via: M
    appointment: Appointment
    location: Location
    service: Service
    calendar: Calendar
    activations: list[PluginActivation]


@cache
def _via_sql(model: type[Model], column: str) -> str:
    table = model._meta.db_table
    if column not in model._meta.db_fields or "appointment_id" not in model._meta.db_fields:
        raise ValueError(f"{model.__name__} needs the columns {column!r} and 'appointment_id'")
    selected = ", ".join(sql.columns(m, alias) for alias, m in (("v", model), *_PARTS, ("p", PluginActivation)))
    return (
        f'SELECT {selected} FROM "{table}" v JOIN "appointment" a ON a.id = v.appointment_id'
        ' JOIN "location" l ON l.id = a.location_id JOIN "service" s ON s.id = a.service_id'
        ' JOIN "calendar" c ON c.id = a.calendar_id LEFT JOIN "plugin_activation" p ON p.location_id = a.location_id'
        f' WHERE v."{column}" = {{0}}'
    )


async def appointment_via(model: type[M], column: str, value: object) -> AppointmentVia[M] | None:
    """The row of `model` (a table with an `appointment_id` column) whose `column` equals `value`,
    with its appointment and everything around it, in one statement; None when there is none."""
    found = await sql.rows(_via_sql(model, column), [value])
    if not found:
        return None
    first = found[0]
    activations = [sql.instance(PluginActivation, row, "p") for row in found if row["p.id"] is not None]
    return AppointmentVia(
        sql.instance(model, first, "v"),
        sql.instance(Appointment, first, "a"),
        sql.instance(Location, first, "l"),
        sql.instance(Service, first, "s"),
        sql.instance(Calendar, first, "c"),
        activations,
    )


@cache
def _history_sql() -> str:
    return (
        f'SELECT {sql.columns(AppointmentEvent, "e")} FROM "appointment_event" e'
        " WHERE e.appointment_id = {0} AND e.actor_kind = {1} ORDER BY e.at, e.id"
    )


async def changes_by(appointment_id: int, actor_kind: ActorKind) -> list[AppointmentEvent]:
    """The changes one kind of actor made to an appointment, oldest first (one statement)."""
    found = await sql.rows(_history_sql(), [appointment_id, actor_kind.value])
    return [sql.instance(AppointmentEvent, row, "e") for row in found]
