"""Hand-written SQL for hot paths (core.sql, core.appointment_loads) builds model instances with
Tortoise's private `Model._init_from_db`: these tests pin that it converts every column exactly as
the ORM does, on both databases, so a Tortoise upgrade that changes it fails here first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from helpers import book, local, make_clinic
from tortoise.models import Model

from core import sql
from core.appointment_loads import appointment_via, changes_by
from core.models import (
    ActorKind,
    Appointment,
    AppointmentEvent,
    Calendar,
    Customer,
    Location,
    OutboxMessage,
    PluginActivation,
    Service,
)
from core.security.tokens import token_hash
from plugins.action_links.links import token_for
from plugins.action_links.models import ActionLink

ENABLE = (
    'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }'
)
SILVER = "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }"
CANCEL = 'mutation($id: ID!) { cancelAppointment(id: $id, reason: "Other", note: "ünïcode ✓") { __typename } }'


def same(model: type[Model], ours: Model, orm: Model) -> None:
    """Every column of `ours` equals the ORM's, with the same Python type (aware instants alike)."""
    for column in model._meta.fields_db_projection:
        mine, theirs = getattr(ours, column), getattr(orm, column)
        assert mine == theirs and type(mine) is type(theirs), (model.__name__, column, mine, theirs)
        if isinstance(theirs, dt.datetime):
            assert mine.utcoffset() == theirs.utcoffset(), (model.__name__, column)


async def by_hand(model: type[Model], row_id: int) -> Model:
    rows = await sql.rows(
        f'SELECT {sql.columns(model, "x")} FROM "{model._meta.db_table}" x WHERE x.id = {{0}}', [row_id]
    )
    return sql.instance(model, rows[0], "x")


async def test_rows_built_by_hand_equal_the_orms_for_every_model(api_factory):
    api = await api_factory()
    clinic = await make_clinic(api)
    await api.data(SILVER, {"l": clinic.location})
    await api.data(ENABLE, {"l": clinic.location})
    booked = await book(api, clinic, local(clinic.tz, 2, 10))
    appointment = await Appointment.get(id=int(booked["id"]))
    await token_for(api.settings, appointment)
    assert (await api.data(CANCEL, {"id": booked["id"]}))["cancelAppointment"]["__typename"] == "Appointment"
    await Service.filter(id=appointment.service_id).update(price=Decimal("12.50"))
    checked = 0
    for model in (
        Location,
        Calendar,
        Service,
        Customer,
        Appointment,
        AppointmentEvent,
        PluginActivation,
        OutboxMessage,
        ActionLink,
    ):
        for orm in await model.all():
            same(model, await by_hand(model, orm.id), orm)
            checked += 1
    assert checked >= 10


async def test_an_appointment_via_a_plugins_row_is_what_the_orm_loads(api_factory):
    api = await api_factory()
    clinic = await make_clinic(api)
    await api.data(SILVER, {"l": clinic.location})
    await api.data(ENABLE, {"l": clinic.location})
    appointment = await Appointment.get(id=int((await book(api, clinic, local(clinic.tz, 2, 10)))["id"]))
    token = await token_for(api.settings, appointment)
    found = await appointment_via(ActionLink, "token_hash", token_hash(token))
    assert found is not None and await appointment_via(ActionLink, "token_hash", "no such hash") is None
    same(ActionLink, found.via, await ActionLink.get(appointment_id=appointment.id))
    same(Appointment, found.appointment, appointment)
    same(Location, found.location, await Location.get(id=appointment.location_id))
    same(Service, found.service, await Service.get(id=appointment.service_id))
    same(Calendar, found.calendar, await Calendar.get(id=appointment.calendar_id))
    assert [a.plugin for a in found.activations] == [
        a.plugin for a in await PluginActivation.filter(location_id=clinic.location)
    ]
    assert await changes_by(appointment.id, ActorKind.CUSTOMER_LINK) == []
    staff_changes = await changes_by(appointment.id, ActorKind.STAFF)
    orm_changes = await AppointmentEvent.filter(appointment_id=appointment.id, actor_kind=ActorKind.STAFF).order_by(
        "at", "id"
    )
    assert len(staff_changes) == len(orm_changes) == 1
    same(AppointmentEvent, staff_changes[0], orm_changes[0])
