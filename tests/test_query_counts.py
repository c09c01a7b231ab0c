"""Statements per page: every field of `Appointment`, with its sub-selections, costs the same
number of SQL statements for a page of 10 appointments as for a page of 100, with every built-in
plugin enabled, on SQLite and PostgreSQL. The fields come from the schema itself, so a new one
cannot escape: it fails here until its count is written down."""

from __future__ import annotations

import datetime as dt

from helpers import Clinic, book, local, make_clinic, statements

from core.models import Appointment
from plugins.action_links.models import ActionLink

PLUGINS = ("action_links", "one_time_links", "client_portal")
SIZES = (10, 100)
DEPTH = 2  # object levels selected below each field of Appointment
NAMED = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
INTROSPECTION = (
    """{ __schema { types { name kind possibleTypes { name }
  fields { name args { type { kind } defaultValue } type { %s } } } } }"""
    % NAMED
)
PAGE = """query($l: ID!, $n: Int!) { appointments(locationId: $l, first: $n) {
  __typename ... on AppointmentConnection { edges { node { id %s } } } } }"""

# Statements for a page of appointments asking for `id` and one field (with everything below
# it, DEPTH levels down), whatever the page's size, on both databases. Every page costs 4: the
# staff token, the location (scope), the page, the location's zone (loader). Then one per
# relation walked, for all the rows at once.
BASE = 4
EXPECTED = {
    **{
        leaf: BASE
        for leaf in (
            "id",
            "status",
            "startsAt",
            "endsAt",
            "sequence",
            "cancellationReason",
            "cancellationNote",
            "createdAt",
            "updatedAt",
        )
    },
    "history": BASE + 1,  # the events of all the rows
    "links": BASE + 1,  # the location's plugin activations (staff see no action links: nothing more to read)
    # The rows, then one statement per relation below them, for all of them at once.
    "customer": BASE + 4,
    "location": BASE + 11,
    "calendar": BASE + 12,
    "service": BASE + 12,
}


def _named(ref: dict) -> str:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref["name"]


def _selectable(field: dict) -> bool:
    """A field that can be asked for without arguments."""
    return all(arg["type"]["kind"] != "NON_NULL" or arg["defaultValue"] is not None for arg in field["args"])


def selection(types: dict, name: str, depth: int) -> str:
    """Every field of a type that needs no argument: leaves by name, objects (and union members)
    with their own selection, `depth` levels down (below that, their leaves only)."""
    kind = types[name]
    if kind["kind"] == "UNION":
        return "{ __typename %s }" % " ".join(
            f"... on {m['name']} {selection(types, m['name'], depth)}" for m in kind["possibleTypes"]
        )
    parts = []
    for field in filter(_selectable, kind["fields"]):
        inner = _named(field["type"])
        if types[inner]["kind"] in ("SCALAR", "ENUM"):
            parts.append(field["name"])
        elif depth > 0:
            parts.append(f"{field['name']} {selection(types, inner, depth - 1)}")
    return "{ %s }" % " ".join(parts or ["__typename"])


def appointment_fields(schema: dict) -> dict[str, str]:
    """Each field of Appointment with what to select in it (nothing for a leaf)."""
    types = {t["name"]: t for t in schema["__schema"]["types"]}
    fields = {}
    for field in types["Appointment"]["fields"]:
        assert _selectable(field), f"Appointment.{field['name']} needs arguments: give it some here"
        inner = _named(field["type"])
        fields[field["name"]] = "" if types[inner]["kind"] in ("SCALAR", "ENUM") else selection(types, inner, DEPTH)
    return fields


async def busy_clinic(api) -> Clinic:
    """A GOLD location with the built-in plugins on and 100 appointments spread over three
    calendars, two services and five customers (some confirmed: two history rows)."""
    clinic = await make_clinic(api)
    q = api.data
    await q("mutation($l: ID!) { updateLocation(id: $l, input: {tier: GOLD}) { __typename } }", {"l": clinic.location})
    for plugin in PLUGINS:
        enabled = await q(
            "mutation($l: ID!, $p: String!) { setPluginEnabled(locationIds: [$l], plugin: $p, enabled: true) { __typename } }",
            {"l": clinic.location, "p": plugin},
        )
        assert enabled["setPluginEnabled"]["__typename"] == "PluginStateList", enabled
    calendars = [clinic.calendar]
    for name in ("Room 2", "Room 3"):
        made = await q(
            "mutation($l: ID!, $n: String!) { createCalendar(input: {locationId: $l, name: $n}) { ... on Calendar { id } } }",
            {"l": clinic.location, "n": name},
        )
        calendars.append(made["createCalendar"]["id"])
    made = await q(
        'mutation($l: ID!, $c: [ID!]!) { createService(input: {locationId: $l, name: "Clean", durationMinutes: 30, calendarIds: $c}) { ... on Service { id } } }',
        {"l": clinic.location, "c": calendars},
    )
    services = [clinic.service, made["createService"]["id"]]
    customers = [clinic.customer]
    for i in range(4):
        made = await q(
            'mutation($l: ID!, $e: String!) { createCustomer(input: {locationId: $l, firstName: "C", lastName: "L", email: $e}) { ... on Customer { id } } }',
            {"l": clinic.location, "e": f"c{i}@example.com"},
        )
        customers.append(made["createCustomer"]["id"])
    for i in range(100):
        calendar = calendars[i % 3]
        service = services[0] if calendar == clinic.calendar and i % 2 else services[1]
        start = local(clinic.tz, 2 + i // 30, 8) + dt.timedelta(minutes=30 * (i % 30))
        booked = await q(
            "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}, override: true) { __typename ... on Appointment { id } } }",
            {"c": calendar, "s": service, "u": customers[i % 5], "t": start.isoformat()},
        )
        assert booked["bookAppointment"]["__typename"] == "Appointment", booked
        if i % 7 == 0:
            await q(
                "mutation($a: ID!) { confirmAppointment(id: $a, override: true) { __typename } }",
                {"a": booked["bookAppointment"]["id"]},
            )
    return clinic


async def page_statements(api, location: str, selected: str, size: int) -> list[str]:
    """The statements one page of `size` appointments with `selected` costs."""
    with statements() as sent:
        data = await api.data(PAGE % selected, {"l": location, "n": size})
    assert len(data["appointments"]["edges"]) == size
    return sent


async def test_every_appointment_field_costs_the_same_for_10_and_100_rows(api_factory):
    api = await api_factory(run_worker=False)  # an idle delivery worker's polls would be counted too
    clinic = await busy_clinic(api)
    fields = appointment_fields(await api.data(INTROSPECTION))
    measured, shown = {}, {}
    for name, inner in fields.items():
        sent = {size: await page_statements(api, clinic.location, f"{name} {inner}", size) for size in SIZES}
        measured[name] = tuple(len(sent[size]) for size in SIZES)
        shown[name] = sent[SIZES[-1]]
    expected = {name: (count, count) for name, count in EXPECTED.items()}
    assert measured == expected, "\n".join(
        f"{n}: {measured.get(n)}\n  " + "\n  ".join(s[:120] for s in shown.get(n, []))
        for n in sorted(set(measured) | set(expected))
        if measured.get(n) != expected.get(n)
    )


async def test_action_links_first_shown_to_their_customers_are_made_in_one_statement_and_open(api_factory):
    """Customer pages list appointments with their links (the portal's list): the links of a whole
    page are read, and made when missing, in one statement each. Staff pages show none of them."""
    api = await api_factory(run_worker=False)
    clinic = await make_clinic(api)
    for hour in range(8, 20):  # booked while the plugin is off: no link yet
        booked = await book(api, clinic, local(clinic.tz, 3, hour), override=True)
        assert booked["__typename"] == "Appointment", booked
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    with statements() as sent:
        staff = await api.data(PAGE % "links { kind url }", {"l": clinic.location, "n": 12})
    assert len(sent) == EXPECTED["links"] and {
        str(edge["node"]["links"]) for edge in staff["appointments"]["edges"]
    } == {"[]"}
    assert await ActionLink.all().count() == 0

    host, rows = api.app.plugins, await Appointment.filter(location_id=int(clinic.location)).order_by("starts_at")
    activations = await host.activations_at(int(clinic.location))
    with statements() as sent:
        first = await host.links(rows, "customer", activations)
    assert [s.split()[0] for s in sent] == ["SELECT", "INSERT"] and '"action_link"' in sent[1], sent
    assert await ActionLink.all().count() == 12
    urls = [links[0].url for links in first.values()]
    for url in (urls[0], urls[-1]):
        page = await api.client.get(url.removeprefix("http://testserver"), headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
    with statements() as sent:
        again = await host.links(rows, "customer", activations)
    assert again == first and len(sent) == 1
