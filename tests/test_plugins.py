"""The plugin host with test-only plugins (tests/fixture_plugins): every hook, enabled at one location
and not at another; the marketplace; gating; isolation; start-up refusals."""

from __future__ import annotations

from pathlib import Path

import agendum_probe
import agendum_witness
import pytest
from helpers import book, local, make_clinic, throwaway_plugin
from pydantic import Field

from core import booking, hookimpl
from core.email.registry import EmailEvent, Placeholder
from core.errors import RuleViolation
from core.models import ActorKind, Appointment, Customer, OutboxMessage, PluginActivation
from core.plugins.host import PluginConflict, PluginHost
from core.plugins.types import GraphQLContribution, PluginInfo, PluginRoutes, PluginSettings
from core.security.access import Actor

MARKETPLACE = """query($l: ID!) { plugins(locationId: $l) { __typename ... on PluginStateList { plugins {
  name title version allowedTiers enabled eligible settings missingSettings changedBy } } } }"""
ENABLE = """mutation($ls: [ID!]!, $p: String!, $e: Boolean!) { setPluginEnabled(locationIds: $ls, plugin: $p, enabled: $e) {
  __typename ... on PluginStateList { plugins { name enabled } } ... on NotEligible { message locationId } ... on NotFound { message }
  ... on ValidationError { field message } } }"""
SETTINGS = """mutation($l: ID!, $p: String!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: $p, settings: $s) {
  __typename ... on PluginState { settings } ... on ValidationError { field message } ... on NotFound { message } } }"""
GREETING = """query($on: ID!, $off: ID!) {
  on: probeGreeting(locationId: $on) { __typename ... on ProbeGreeting { text notes } ... on PluginDisabled { plugin message } }
  off: probeGreeting(locationId: $off) { __typename ... on ProbeGreeting { text } ... on PluginDisabled { plugin message } }
  location(id: $off) { ... on Location { name } }
}"""


def probe_host() -> PluginHost:
    return PluginHost([agendum_probe, agendum_witness])


async def two_clinics(api):
    """A SILVER clinic with the probe enabled and a second one without it."""
    on = await make_clinic(api)
    off = await make_clinic(api)
    for clinic in (on, off):
        await api.data(
            "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
        )
    enabled = await api.data(ENABLE, {"ls": [on.location], "p": "probe", "e": True})
    assert enabled["setPluginEnabled"]["plugins"] == [{"name": "probe", "enabled": True}]
    await api.data(ENABLE, {"ls": [on.location, off.location], "p": "witness", "e": True})
    return on, off


async def test_marketplace_eligibility_and_settings(api_factory):
    api = await api_factory(host=probe_host())
    clinic = await make_clinic(api)
    market = (await api.data(MARKETPLACE, {"l": clinic.location}))["plugins"]["plugins"]
    probe = next(p for p in market if p["name"] == "probe")
    assert probe == {
        "name": "probe",
        "title": "Probe",
        "version": "1.0",
        "allowedTiers": ["SILVER", "GOLD", "PLATINUM"],
        "enabled": False,
        "eligible": False,
        "settings": {"greeting": "Hello from the probe", "maxNotes": 3},
        "missingSettings": [],
        "changedBy": "",
    }
    refused = (await api.data(ENABLE, {"ls": [clinic.location], "p": "probe", "e": True}))["setPluginEnabled"]
    assert refused["__typename"] == "NotEligible" and refused["locationId"] == clinic.location
    assert not await PluginActivation.filter(plugin="probe", enabled=True).exists()
    unknown = (await api.data(ENABLE, {"ls": [clinic.location], "p": "nope", "e": True}))["setPluginEnabled"]
    assert unknown["__typename"] == "NotFound"
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: GOLD}) { __typename } }", {"l": clinic.location}
    )
    assert (await api.data(ENABLE, {"ls": [clinic.location], "p": "probe", "e": True}))["setPluginEnabled"][
        "__typename"
    ] == "PluginStateList"
    changed = (await api.data(SETTINGS, {"l": clinic.location, "p": "probe", "s": {"greeting": "Hi there!"}}))[
        "updatePluginSettings"
    ]
    assert changed["settings"] == {"greeting": "Hi there", "maxNotes": 3}  # completed by the probe's validate_settings
    for bad, field in (
        ({"maxNotes": 0}, "settings.maxNotes"),
        ({"greeting": ""}, "settings.greeting"),
        ({"colour": "red"}, "settings.colour"),
        ({"greeting": "Goodbye"}, "settings.greeting"),
    ):
        refused = (await api.data(SETTINGS, {"l": clinic.location, "p": "probe", "s": bad}))["updatePluginSettings"]
        assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    assert (await api.data(SETTINGS, {"l": clinic.location, "p": "probe", "s": "text"}))["updatePluginSettings"][
        "__typename"
    ] == "ValidationError"
    after = next(
        p for p in (await api.data(MARKETPLACE, {"l": clinic.location}))["plugins"]["plugins"] if p["name"] == "probe"
    )
    assert after["settings"] == {"greeting": "Hi there", "maxNotes": 3} and after["changedBy"].startswith("staff:")
    # A tier that no longer allows the plugin turns it off, with a note.
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: FREE}) { __typename } }", {"l": clinic.location}
    )
    row = await PluginActivation.get(location_id=int(clinic.location), plugin="probe")
    assert not row.enabled and "FREE" in row.note


class NeedySettings(PluginSettings):
    api_key: str = Field(min_length=8)
    greeting: str = "Hello"


def needy_plugin():
    """A plugin with a required setting whose appointment_links always fails."""

    def appointment_links(appointments):
        raise RuntimeError("the needy plugin fails on purpose")

    needy = throwaway_plugin("needy", appointment_links=appointment_links)
    needy.plugin_info = hookimpl(
        lambda: PluginInfo(name="needy", title="Needy", description="", version="1", settings_model=NeedySettings)
    )
    return needy


async def test_a_plugin_with_required_settings_or_failing_hooks_never_breaks_another(api_factory):
    api = await api_factory(host=PluginHost([agendum_probe, agendum_witness, needy_plugin()]))
    on, _ = await two_clinics(api)
    market = {p["name"]: p for p in (await api.data(MARKETPLACE, {"l": on.location}))["plugins"]["plugins"]}
    assert (market["needy"]["settings"], market["needy"]["missingSettings"], market["needy"]["enabled"]) == (
        {"greeting": "Hello"},
        ["apiKey"],
        False,
    )
    assert market["probe"]["enabled"] and market["probe"]["missingSettings"] == []
    assert (await api.data(ENABLE, {"ls": [on.location], "p": "witness", "e": False}))["setPluginEnabled"][
        "__typename"
    ] == "PluginStateList"
    refused = (await api.data(ENABLE, {"ls": [on.location], "p": "needy", "e": True}))["setPluginEnabled"]
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "settings.apiKey") and "apiKey" in refused[
        "message"
    ]
    assert not await PluginActivation.filter(plugin="needy", enabled=True).exists()
    short = (await api.data(SETTINGS, {"l": on.location, "p": "needy", "s": {"apiKey": "short"}}))[
        "updatePluginSettings"
    ]
    assert (short["__typename"], short["field"]) == ("ValidationError", "settings.apiKey")
    changed = (await api.data(SETTINGS, {"l": on.location, "p": "needy", "s": {"apiKey": "k-12345678"}}))[
        "updatePluginSettings"
    ]
    assert changed["settings"] == {"apiKey": "k-12345678", "greeting": "Hello"}
    enabled = (await api.data(ENABLE, {"ls": [on.location], "p": "needy", "e": True}))["setPluginEnabled"]
    assert enabled["__typename"] == "PluginStateList"
    # Its appointment_links raises: logged, and the probe's links still show.
    booked = await book(api, on, local(on.tz, 2, 10))
    shown = await api.data(
        "query($id: ID!) { appointment(id: $id) { ... on Appointment { links { kind } } } }", {"id": booked["id"]}
    )
    assert shown["appointment"]["links"] == [{"kind": "probe"}]


async def test_graphql_field_answers_where_enabled_and_never_nulls_the_rest(api_factory):
    api = await api_factory(host=probe_host())
    on, off = await two_clinics(api)
    data = await api.data(GREETING, {"on": on.location, "off": off.location})
    assert data["on"] == {"__typename": "ProbeGreeting", "text": "Hello from the probe", "notes": 0}
    assert data["off"]["__typename"] == "PluginDisabled" and data["off"]["plugin"] == "probe"
    assert data["location"] == {"name": "Clinic"}
    note = await api.data(
        'mutation($l: ID!) { probeNote(locationId: $l, text: "hi") { __typename ... on ProbeGreeting { notes } } }',
        {"l": on.location},
    )
    assert note["probeNote"] == {"__typename": "ProbeGreeting", "notes": 1}
    blocked = await api.data(
        'mutation($l: ID!) { probeNote(locationId: $l, text: "hi") { __typename } }', {"l": off.location}
    )
    assert blocked["probeNote"]["__typename"] == "PluginDisabled"
    unknown = await api.data('mutation { probeNote(locationId: "999999", text: "hi") { __typename } }')
    assert unknown["probeNote"]["__typename"] == "NotFound"  # a location that does not exist is not "disabled"


async def test_plugin_route_answers_200_where_enabled_and_404_elsewhere(api_factory):
    api = await api_factory(host=probe_host())
    on, off = await two_clinics(api)
    page = await api.client.get(f"/probe/{on.location}")
    assert page.status_code == 200 and "Hello from the probe" in page.text
    assert (await api.client.get(f"/probe/{off.location}")).status_code == 404
    assert (await api.client.get("/probe/999999")).status_code == 404


async def test_placeholders_fill_where_enabled_and_render_empty_elsewhere(api_factory):
    api = await api_factory(host=probe_host())
    on, off = await two_clinics(api)
    template = {
        "name": "Booked",
        "event": "APPOINTMENT_BOOKED",
        "role": "CUSTOMER",
        "subject": "Booked",
        "body": "[{ProbeGreeting}]",
    }
    save = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename ... on ValidationError { message } } }"
    assert (await api.data(save, {"i": {**template, "locationId": on.location}}))["saveEmailTemplate"][
        "__typename"
    ] == "EmailTemplate"
    refused = (await api.data(save, {"i": {**template, "locationId": off.location}}))["saveEmailTemplate"]
    assert (
        refused["__typename"] == "ValidationError"
        and "{ProbeGreeting} comes from the probe plugin, which is not enabled" in refused["message"]
    )
    placeholders = "query($l: ID!) { emailPlaceholders(locationId: $l, role: CUSTOMER) { ... on EmailPlaceholderList { placeholders { name plugin } } } }"
    listed = (await api.data(placeholders, {"l": on.location}))["emailPlaceholders"]["placeholders"]
    assert {"name": "ProbeGreeting", "plugin": "probe"} in listed
    assert "ProbeGreeting" not in [
        p["name"] for p in (await api.data(placeholders, {"l": off.location}))["emailPlaceholders"]["placeholders"]
    ]
    booked = await book(api, on, local(on.tz, 3, 10))
    customer_mail = await OutboxMessage.get(appointment_id=int(booked["id"]), role="CUSTOMER")
    assert customer_mail.body.startswith("[Hello from the probe]") and "-- amended by the probe" in customer_mail.body
    extra = await OutboxMessage.get(appointment_id=int(booked["id"]), event="PROBE_EVENT")
    assert (extra.to_address, extra.subject) == ("probe@example.com", f"Probe saw booking {booked['id']}")
    # The template stays at `on`; once the plugin is off there, its placeholder renders empty.
    await api.data(ENABLE, {"ls": [on.location], "p": "probe", "e": False})
    later = await book(api, on, local(on.tz, 3, 12))
    mail = await OutboxMessage.get(appointment_id=int(later["id"]), role="CUSTOMER")
    assert mail.body.startswith("[]") and "amended" not in mail.body
    assert not await OutboxMessage.filter(appointment_id=int(later["id"]), event="PROBE_EVENT").exists()


async def test_check_customer_action_refusal_reaches_the_booking_path(api_factory):
    api = await api_factory(host=probe_host())
    on, off = await two_clinics(api)
    for clinic in (on, off):
        await Customer.filter(id=int(clinic.customer)).update(
            email="ada@blocked.example", email_key="ada@blocked.example"
        )
    actor = lambda c: Actor(ActorKind.PORTAL, customer_id=int(c.customer))  # noqa: E731
    with pytest.raises(RuleViolation) as refused:
        await booking.book(
            api.app.plugins,
            actor(on),
            calendar_id=int(on.calendar),
            service_id=int(on.service),
            customer_id=int(on.customer),
            start=local(on.tz, 2, 10),
        )
    assert refused.value.rule == "PROBE_BLOCKED"
    assert not await OutboxMessage.filter(location_id=int(on.location)).exists()
    allowed = await booking.book(
        api.app.plugins,
        actor(off),
        calendar_id=int(off.calendar),
        service_id=int(off.service),
        customer_id=int(off.customer),
        start=local(off.tz, 2, 10),
    )
    assert allowed.id
    # Staff are not customers: the hook is not asked.
    assert (await book(api, on, local(on.tz, 2, 10)))["__typename"] == "Appointment"


async def test_a_failing_appointment_changed_neither_stops_others_nor_undoes_the_booking(api_factory):
    api = await api_factory(host=probe_host())
    on, _ = await two_clinics(api)
    agendum_witness.seen.clear()
    booked = await book(api, on, local(on.tz, 2, 11))
    assert booked["__typename"] == "Appointment"
    assert ("appointment_changed", "BOOKED") in agendum_probe.calls
    assert ("BOOKED", int(booked["id"])) in agendum_witness.seen
    links = await api.data(
        "query($id: ID!) { appointment(id: $id) { ... on Appointment { status links { kind label url } } } }",
        {"id": booked["id"]},
    )
    assert links["appointment"] == {
        "status": "SCHEDULED",
        "links": [
            {"kind": "probe", "label": "Hello from the probe, staff", "url": f"http://testserver/probe/{on.location}"}
        ],
    }


async def test_appointment_changing_writes_with_the_change_and_raising_rolls_it_back(api_factory):
    api = await api_factory(host=probe_host())
    on, _ = await two_clinics(api)
    booked = await book(api, on, local(on.tz, 2, 11))
    queued = await OutboxMessage.filter(appointment_id=int(booked["id"])).count()
    assert queued > 0  # core's own appointment_changing queued the booking's emails
    cancel = "mutation($id: ID!, $n: String) { cancelAppointment(id: $id, note: $n) { __typename ... on Appointment { status } } }"
    refused = await api.gql(cancel, {"id": booked["id"], "n": "probe: refuse"})
    assert refused["errors"] and refused["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "SCHEDULED"
    assert (
        await OutboxMessage.filter(appointment_id=int(booked["id"])).count() == queued
    )  # no cancellation email either
    assert (await api.data(cancel, {"id": booked["id"], "n": "changed my mind"}))["cancelAppointment"][
        "status"
    ] == "CANCELLED"


async def test_startup_and_shutdown_hooks_run(api_factory):
    before = len(agendum_probe.calls)
    await api_factory(host=probe_host())
    assert "startup" in [name for name, _ in agendum_probe.calls[before:]]


def test_start_up_refuses_clashes_naming_the_plugins():
    import strawberry

    @strawberry.type
    class Q1:
        @strawberry.field
        def same(self) -> str:
            return "1"

    @strawberry.type
    class Q2:
        @strawberry.field
        def same(self) -> str:
            return "2"

    from core.settings import Settings
    from schema.build import SchemaConflict, build_schema

    host = PluginHost(
        [
            throwaway_plugin("one", register_graphql=lambda: GraphQLContribution(query=Q1)),
            throwaway_plugin("two", register_graphql=lambda: GraphQLContribution(query=Q2)),
        ]
    )
    with pytest.raises(SchemaConflict, match="'one' and two|one and two|both one and two"):
        build_schema(Settings(), host.graphql())
    with pytest.raises(PluginConflict, match="core"):
        PluginHost(
            [throwaway_plugin("three", register_email_placeholders=lambda: [Placeholder("ClientFirstName", "again")])]
        )
    with pytest.raises(PluginConflict, match="'four'.*'five'|four.*five"):
        PluginHost(
            [
                throwaway_plugin("four", register_email_events=lambda: [EmailEvent("X", "x")]),
                throwaway_plugin("five", register_email_events=lambda: [EmailEvent("X", "y")]),
            ]
        )
    host = PluginHost(
        [
            throwaway_plugin("six", register_routes=lambda: PluginRoutes("/same")),
            throwaway_plugin("seven", register_routes=lambda: PluginRoutes("/same/")),
        ]
    )
    with pytest.raises(PluginConflict, match="six.*seven"):
        host.routes()
    host = PluginHost(
        [throwaway_plugin("nine", register_routes=lambda: PluginRoutes("/nine", templates=Path("/no/such/folder")))]
    )
    with pytest.raises(PluginConflict, match="'nine'.*/no/such/folder does not exist"):
        host.routes()
    with pytest.raises(PluginConflict, match="eight.*plugin_infos"):  # a misspelled hook
        PluginHost([throwaway_plugin("eight", plugin_infos=lambda: None)])
    with pytest.raises(PluginConflict, match="no plugin_info hook"):  # every plugin says who it is
        PluginHost([object()])


@pytest.mark.parametrize("option", ["tryfirst", "trylast", "wrapper", "hookwrapper"])
def test_start_up_refuses_pluggys_ordering_and_wrapper_options_naming_plugin_and_hook(option):
    def amend_email(message):
        yield

    ordered = throwaway_plugin("ordered")
    ordered.amend_email = hookimpl(**{option: True})(amend_email)
    with pytest.raises(PluginConflict, match=rf"Plugin 'ordered': hook 'amend_email' uses {option}"):
        PluginHost([ordered])
    assert "plain" in PluginHost([throwaway_plugin("plain", amend_email=lambda message: None)]).infos


async def test_plugin_messages_and_amendments_reach_the_smtp_server(api_factory, smtp):
    api = await api_factory(host=probe_host(), smtp_url=smtp.url())
    on, _ = await two_clinics(api)
    booked = await book(api, on, local(on.tz, 3, 10))
    refused = await book(api, on, local(on.tz, 3, 10))  # a failed booking leaves no message behind
    assert (booked["__typename"], refused["__typename"]) == ("Appointment", "SlotUnavailable")
    await smtp.wait_for(2)
    await smtp.settle()
    by_recipient = {tuple(mail.recipients): mail for mail in smtp.received}
    assert set(by_recipient) == {("ada@example.com",), ("probe@example.com",)} and len(smtp.received) == 2
    customer = by_recipient[("ada@example.com",)].message.get_body(("plain",)).get_content()
    assert "-- amended by the probe" in customer
    assert by_recipient[("probe@example.com",)].message["Subject"] == f"Probe saw booking {booked['id']}"
