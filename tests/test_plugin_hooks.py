"""Each hook of the contract, watched through the probe plugin (tests/plugins/agendum_probe, which
implements every one): the startup hooks run for every installed plugin, the location-scoped ones
only where the probe is enabled."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import agendum_probe
import agendum_witness
import pytest
from agendum_probe.models import ProbeNote
from conftest import make_settings, start_server
from helpers import Clinic, book, local, make_clinic, throwaway_plugin

from app import orm_config
from core import booking
from core.email.secrets import derived_link
from core.models import ActorKind, DeliveryStatus, OutboxMessage, RecipientRole
from core.plugins.host import PluginConflict, PluginHost
from core.plugins.types import Link
from core.security.access import Actor
from core.settings import Settings

LOCATION_SCOPED = {
    "email_placeholder_values",
    "emails_for_change",
    "amend_email",
    "appointment_links",
    "appointment_changing",
    "appointment_changed",
    "check_customer_action",
}
LINKS = "query($id: ID!) { appointment(id: $id) { ... on Appointment { links { kind url } } } }"


def probe_host() -> PluginHost:
    return PluginHost([agendum_probe, agendum_witness])


def test_register_models_gives_each_plugin_its_own_app_with_migrations_beside_the_models():
    host = probe_host()
    assert host.model_apps() == {
        "probe": {"models": ["agendum_probe.models"], "migrations": "agendum_probe.migrations"}
    }
    apps = orm_config(Settings(database_url="sqlite://:memory:", load_entry_points=False), host)["apps"]
    assert apps["probe"]["models"] == ["agendum_probe.models"] and apps["probe"]["default_connection"] == "default"
    assert set(apps) == {"core", "probe"}


async def test_register_models_tables_exist_in_the_migrated_database(api_factory):
    await api_factory(host=probe_host())
    note = await ProbeNote.create(location_id=1, text="kept in the probe's own table")
    assert (await ProbeNote.get(id=note.id)).text == "kept in the probe's own table"


async def test_startup_and_shutdown_run_with_the_app(database_url):
    server, task, _ = await start_server(make_settings(database_url), probe_host())
    app = server.config.app.state.agendum  # the Agendum app; its Starlette app is app.asgi
    assert app.asgi is server.config.app
    assert ("startup", app) in agendum_probe.calls
    assert ("shutdown", app) not in agendum_probe.calls
    server.should_exit = True
    await task
    assert ("shutdown", app) in agendum_probe.calls


async def _clinic(api, *, probe: bool) -> Clinic:
    clinic = await make_clinic(api)
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: GOLD}) { __typename } }", {"l": clinic.location}
    )
    for plugin in ("probe",) if probe else ():
        enabled = await api.data(
            "mutation($l: ID!, $p: String!) { setPluginEnabled(locationIds: [$l], plugin: $p, enabled: true) { __typename } }",
            {"l": clinic.location, "p": plugin},
        )
        assert enabled["setPluginEnabled"]["__typename"] == "PluginStateList"
    return clinic


async def _book_look_and_cancel_as_customer(api, clinic: Clinic) -> str:
    """A staff booking, a look at its links, and the customer cancelling it."""
    booked = await book(api, clinic, local(clinic.tz, 2, 10))
    assert booked["__typename"] == "Appointment", booked
    await api.data(LINKS, {"id": booked["id"]})
    customer = Actor(ActorKind.PORTAL, customer_id=int(clinic.customer))
    await booking.cancel(api.app.plugins, customer, int(booked["id"]))
    return booked["id"]


async def test_link_is_live_asks_the_plugin_that_made_the_link_only_where_it_is_enabled(api_factory):
    host = probe_host()
    api = await api_factory(host=host)
    off = await _clinic(api, probe=False)
    on = await _clinic(api, probe=True)
    assert await host.origin_is_live(int(on.location), "probe:live") is True
    assert await host.origin_is_live(int(on.location), "probe:replaced") is False
    assert await host.origin_is_live(int(on.location), "someone-else:live") is False  # nobody answers True
    assert await host.origin_is_live(int(off.location), "probe:live") is False  # its plugin is off there
    assert ("link_is_live", "probe:live") in agendum_probe.calls


async def test_register_secret_links_makes_an_emails_link_again_as_it_is_sent(api_factory, smtp):
    """A stored body keeps the probe's reference; the worker asks the probe for the URLs of a batch
    as it sends (enabled at the location or not: the email goes out as queued); a reference leading
    nowhere, or one whose plugin fails, fails its own email visibly, without a try."""

    def broken(references):
        raise RuntimeError("the broken plugin fails on purpose")

    host = PluginHost(
        [agendum_probe, agendum_witness, throwaway_plugin("broken", register_secret_links=lambda: {"broken": broken})]
    )
    api = await api_factory(host=host, smtp_url=smtp.url())
    clinic = await _clinic(api, probe=False)
    now = dt.datetime.now(dt.UTC)
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                location_id=int(clinic.location),
                event="PROBE_EVENT",
                role=RecipientRole.CUSTOMER,
                to_address=f"{word}@example.com",
                subject="Your link",
                body=f"Here: {derived_link(kind, word, api.settings)}\n",
                message_id=f"<{word}@agendum.test>",
                send_after=now,
            )
            for kind, word in (("probe_secret", "open-sesame"), ("probe_secret", "gone"), ("broken", "x"))
        ]
    )
    api.app.wake_workers()
    await smtp.settle()
    [mail] = smtp.received
    assert (
        mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        == "Here: http://testserver/probe/secret/open-sesame\n"
    )
    gone, failed = (
        await OutboxMessage.get(message_id="<gone@agendum.test>"),
        await OutboxMessage.get(message_id="<x@agendum.test>"),
    )
    assert (gone.status, gone.attempts) == (failed.status, failed.attempts) == (DeliveryStatus.FAILED, 0)
    assert (
        "leads nowhere" in gone.last_error
        and "its broken link (x) could not be made (RuntimeError)" in failed.last_error
    )
    assert not await OutboxMessage.filter(body__contains="/probe/secret/").exists()
    with pytest.raises(PluginConflict, match="'probe_secret' is registered by both 'probe' and 'copycat'"):
        PluginHost([agendum_probe, throwaway_plugin("copycat", register_secret_links=lambda: {"probe_secret": str})])


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
    assert ("appointment_links", ("staff", [int(appointment)])) in calls
    assert ("appointment_changed", "BOOKED") in calls and ("appointment_changed", "CANCELLED") in calls
    assert calls.index(("appointment_changing", "BOOKED")) < calls.index(("appointment_changed", "BOOKED"))
    # Asked for the customer's cancel, not for the staff booking.
    assert [detail for hook, detail in calls if hook == "check_customer_action"] == ["CANCEL"]
    links = await api.data(LINKS, {"id": appointment})
    assert links["appointment"]["links"] == [{"kind": "probe", "url": f"http://testserver/probe/{on.location}"}]


PAGE_LINKS = """query($l: ID!) { appointments(locationId: $l) { ... on AppointmentConnection {
  edges { node { id links { kind label url } } } } } }"""


async def test_appointment_links_asks_each_plugin_once_per_page_with_its_settings(api_factory):
    api = await api_factory(host=probe_host())
    on = await _clinic(api, probe=True)
    changed = await api.data(
        'mutation($l: ID!) { updatePluginSettings(locationId: $l, plugin: "probe", settings: {greeting: "Ahoy"}) { __typename } }',
        {"l": on.location},
    )
    assert changed["updatePluginSettings"]["__typename"] == "PluginState"
    ids = [(await book(api, on, local(on.tz, 2, hour)))["id"] for hour in (9, 10, 11)]
    agendum_probe.calls.clear()
    edges = (await api.data(PAGE_LINKS, {"l": on.location}))["appointments"]["edges"]
    assert [detail for hook, detail in agendum_probe.calls if hook == "appointment_links"] == [
        ("staff", sorted(int(i) for i in ids))
    ]
    assert {edge["node"]["id"]: edge["node"]["links"] for edge in edges} == {
        i: [{"kind": "probe", "label": "Ahoy, staff", "url": f"http://testserver/probe/{on.location}"}] for i in ids
    }


async def test_appointment_links_takes_a_batch_and_answers_by_appointment_id():
    def one_at_a_time(appointment, audience):
        return []

    with pytest.raises(PluginConflict, match="'old'.*appointment"):  # the one-appointment shape is refused at start-up
        PluginHost([throwaway_plugin("old", appointment_links=one_at_a_time)])
    host = PluginHost(
        [
            throwaway_plugin(
                "odd",
                appointment_links=lambda appointments: {
                    a.id: [Link("odd", "Odd", f"/odd/{a.id}")] for a in appointments if a.id % 2
                },
            ),
            throwaway_plugin(
                "all",
                appointment_links=lambda appointments, settings: {
                    a.id: [Link("all", type(settings).__name__, "/all")] for a in appointments
                },
            ),
            throwaway_plugin(
                "off", appointment_links=lambda appointments: {a.id: [Link("off", "Off", "/off")] for a in appointments}
            ),
            throwaway_plugin("list", appointment_links=lambda audience: [Link("list", "List", "/list")]),
        ]
    )
    rows = [SimpleNamespace(id=i, location_id=7) for i in (1, 2, 3)]  # what the host reads of rows

    def activations(*enabled):
        return [
            SimpleNamespace(location_id=7, plugin=name, enabled=name in enabled, settings={})
            for name in ("odd", "all", "off", "list")
        ]

    found = await host.links(rows, "staff", activations("odd", "all"))
    assert {i: [(link.kind, link.label) for link in links] for i, links in found.items()} == {
        1: [("odd", "Odd"), ("all", "NoSettings")],
        2: [("all", "NoSettings")],
        3: [("odd", "Odd"), ("all", "NoSettings")],
    }
    # A plugin answering in the wrong shape is logged and left out; the others' links still show.
    found = await host.links(rows, "customer", activations("odd", "list"))
    assert {i: [link.kind for link in links] for i, links in found.items()} == {1: ["odd"], 2: [], 3: ["odd"]}
    with pytest.raises(ValueError, match="one location"):
        await host.links([*rows, SimpleNamespace(id=4, location_id=8)], "staff", activations("odd"))
