"""Each hook of the contract, watched through the probe plugin (tests/plugins/agendum_probe, which
implements every one): the startup hooks run for every installed plugin, the location-scoped ones
only where the probe is enabled."""

from __future__ import annotations

import agendum_probe
import agendum_witness
from agendum_probe.models import ProbeNote

from app import orm_config
from conftest import make_settings, start_server
from core import booking, plugins
from core.access import Actor
from core.models import ActorKind, RecipientRole
from core.plugins import PluginHost
from core.settings import Settings
from helpers import Clinic, book, local, make_clinic

LOCATION_SCOPED = {
    "email_placeholder_values", "emails_for_change", "amend_email", "appointment_links", "appointment_changed",
    "check_customer_action",
}
LINKS = 'query($id: ID!) { appointment(id: $id) { ... on Appointment { links { kind url } } } }'


def probe_host() -> PluginHost:
    return PluginHost([agendum_probe, agendum_witness])


def test_register_models_gives_each_plugin_its_own_app_with_migrations_beside_the_models():
    host = probe_host()
    assert host.model_apps() == {"probe": {"models": ["agendum_probe.models"], "migrations": "agendum_probe.migrations"}}
    apps = orm_config(Settings(database_url="sqlite://:memory:", load_entry_points=False), host)["apps"]
    assert apps["probe"]["models"] == ["agendum_probe.models"] and apps["probe"]["default_connection"] == "default"
    assert set(apps) == {"core", "probe"}


async def test_register_models_tables_exist_in_the_migrated_database(api_factory):
    await api_factory(host=probe_host())
    note = await ProbeNote.create(location_id=1, text="kept in the probe's own table")
    assert (await ProbeNote.get(id=note.id)).text == "kept in the probe's own table"


async def test_startup_and_shutdown_run_with_the_app(database_url):
    server, task, _ = await start_server(make_settings(database_url), probe_host())
    app = server.config.app
    assert ("startup", app) in agendum_probe.calls
    assert ("shutdown", app) not in agendum_probe.calls
    server.should_exit = True
    await task
    assert ("shutdown", app) in agendum_probe.calls


async def _clinic(api, *, probe: bool) -> Clinic:
    clinic = await make_clinic(api)
    await api.data('mutation($l: ID!) { updateLocation(id: $l, input: {tier: GOLD}) { __typename } }', {"l": clinic.location})
    for plugin in ("probe",) if probe else ():
        enabled = await api.data('mutation($l: ID!, $p: String!) { setPluginEnabled(locationIds: [$l], plugin: $p, enabled: true) { __typename } }',
                                 {"l": clinic.location, "p": plugin})
        assert enabled["setPluginEnabled"]["__typename"] == "PluginStateList"
    return clinic


async def _book_look_and_cancel_as_customer(api, clinic: Clinic) -> str:
    """A staff booking, a look at its links, and the customer cancelling it."""
    booked = await book(api, clinic, local(clinic.tz, 2, 10))
    assert booked["__typename"] == "Appointment", booked
    await api.data(LINKS, {"id": booked["id"]})
    customer = Actor(ActorKind.PORTAL, customer_id=int(clinic.customer))
    await booking.cancel(customer, int(booked["id"]))
    return booked["id"]


async def test_link_is_live_asks_the_plugin_that_made_the_link_only_where_it_is_enabled(api_factory):
    api = await api_factory(host=probe_host())
    off = await _clinic(api, probe=False)
    on = await _clinic(api, probe=True)
    host = plugins.current()
    assert await host.origin_is_live(int(on.location), "probe:live") is True
    assert await host.origin_is_live(int(on.location), "probe:replaced") is False
    assert await host.origin_is_live(int(on.location), "someone-else:live") is False  # nobody answers True
    assert await host.origin_is_live(int(off.location), "probe:live") is False  # its plugin is off there
    assert ("link_is_live", "probe:live") in agendum_probe.calls


async def test_location_scoped_hooks_reach_the_probe_only_where_it_is_enabled(api_factory):
    api = await api_factory(host=probe_host())
    off = await _clinic(api, probe=False)
    on = await _clinic(api, probe=True)

    agendum_probe.calls.clear()
    await _book_look_and_cancel_as_customer(api, off)
    assert [hook for hook, _ in agendum_probe.calls] == []

    appointment = await _book_look_and_cancel_as_customer(api, on)
    calls = agendum_probe.calls
    assert {hook for hook, _ in calls} == LOCATION_SCOPED
    assert ("emails_for_change", "BOOKED") in calls and ("emails_for_change", "CANCELLED") in calls
    assert ("amend_email", "APPOINTMENT_BOOKED") in calls and ("amend_email", "PROBE_EVENT") in calls
    assert ("email_placeholder_values", RecipientRole.CUSTOMER) in calls
    assert ("appointment_links", "staff") in calls
    assert ("appointment_changed", "BOOKED") in calls and ("appointment_changed", "CANCELLED") in calls
    # Asked for the customer's cancel, not for the staff booking.
    assert [detail for hook, detail in calls if hook == "check_customer_action"] == ["CANCEL"]
    links = await api.data(LINKS, {"id": appointment})
    assert links["appointment"]["links"] == [{"kind": "probe", "url": f"http://testserver/probe/{on.location}"}]
