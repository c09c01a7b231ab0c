"""One-time links: staff create, list and revoke; the first booking through a link uses it up,
a failed one leaves it active; pages and GraphQL; gating and bad input."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from helpers import local, make_clinic

from core.models import Appointment, Customer, OutboxMessage

CREATE = """mutation($c: ID!, $s: [ID!], $e: DateTime, $n: String! = "") { createOneTimeLink(input: {calendarId: $c, serviceIds: $s, expiresAt: $e, note: $n}) {
  __typename ... on OneTimeLink { id url status note serviceIds expiresAt createdBy } ... on ValidationError { field message } ... on PluginDisabled { plugin } } }"""
LIST = """query($c: ID!, $st: OneTimeLinkStatus) { oneTimeLinks(calendarId: $c, status: $st) { __typename
  ... on OneTimeLinkConnection { edges { node { id url status usedAt appointment { id customer { email } } } } } ... on PluginDisabled { plugin } } }"""
VIEW = """query($t: String!) { oneTimeLink(token: $t) { __typename ... on OneTimeLinkView { status calendarName locationName
  services { id name } ownerName ownerEmail ownerPhone unavailableMessage } ... on NotFound { message } } }"""
BOOK = """mutation($t: String!, $i: BookViaOneTimeLinkInput!) { bookViaOneTimeLink(token: $t, input: $i) { __typename
  ... on OneTimeBooking { startsAt serviceName } ... on LinkUnavailable { status message ownerName ownerEmail }
  ... on SlotUnavailable { message } ... on ValidationError { field message } ... on NotFound { message } ... on RuleViolation { rule } } }"""
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def setup(api):
    clinic = await make_clinic(api)
    await api.data(
        'mutation($c: ID!) { updateCalendar(id: $c, input: {ownerName: "Dr Who", ownerPhone: "+44 7700 900999"}) { __typename } }',
        {"c": clinic.calendar},
    )
    enabled = await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    assert enabled["setPluginEnabled"]["__typename"] == "PluginStateList"
    created = (await api.data(CREATE, {"c": clinic.calendar, "n": "for Grace"}))["createOneTimeLink"]
    assert (
        created["__typename"] == "OneTimeLink"
        and created["status"] == "ACTIVE"
        and created["serviceIds"] == [clinic.service]
    )
    return clinic, created, created["url"].rsplit("/", 1)[1]


def details(clinic, start, email="grace@example.com", **extra):
    return {
        "serviceId": clinic.service,
        "start": start.isoformat(),
        "firstName": "Grace",
        "lastName": "Hopper",
        "email": email,
        **extra,
    }


async def test_first_booking_uses_the_link_up_and_a_failed_one_does_not(api):
    clinic, link, token = await setup(api)
    assert link["url"] == f"http://testserver/book/{token}" and link["note"] == "for Grace"
    view = (await api.data(VIEW, {"t": token}, token=None))["oneTimeLink"]
    assert (view["status"], view["calendarName"], view["services"], view["ownerName"]) == (
        "ACTIVE",
        "Dr Who",
        [{"id": clinic.service, "name": "Checkup"}],
        None,
    )
    taken = local(clinic.tz, 3, 10)
    await api.data(
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
        {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": taken.isoformat()},
    )
    failed = (await api.data(BOOK, {"t": token, "i": details(clinic, taken)}, token=None))["bookViaOneTimeLink"]
    assert failed["__typename"] == "SlotUnavailable"
    assert (await api.data(VIEW, {"t": token}, token=None))["oneTimeLink"]["status"] == "ACTIVE"
    assert not await Customer.filter(email_key="grace@example.com").exists()
    booked = (await api.data(BOOK, {"t": token, "i": details(clinic, local(clinic.tz, 3, 11))}, token=None))[
        "bookViaOneTimeLink"
    ]
    assert booked == {
        "__typename": "OneTimeBooking",
        "startsAt": local(clinic.tz, 3, 11).isoformat(),
        "serviceName": "Checkup",
    }
    again = (
        await api.data(
            BOOK, {"t": token, "i": details(clinic, local(clinic.tz, 3, 12), email="x@example.com")}, token=None
        )
    )["bookViaOneTimeLink"]
    assert again["__typename"] == "LinkUnavailable" and again["status"] == "USED"
    assert (
        again["message"].startswith("This link has already been used.")
        and again["ownerName"] == "Dr Who"
        and again["ownerEmail"] == "who@clinic.example"
    )
    listed = (await api.data(LIST, {"c": clinic.calendar}))["oneTimeLinks"]["edges"]
    assert (
        listed[0]["node"]["status"] == "USED"
        and listed[0]["node"]["appointment"]["customer"]["email"] == "grace@example.com"
    )
    grace = await Customer.get(email_key="grace@example.com")
    appointment = await Appointment.get(customer_id=grace.id)
    assert (await OutboxMessage.filter(appointment_id=appointment.id, event="APPOINTMENT_BOOKED").count()) == 1
    view = (await api.data(VIEW, {"t": token}, token=None))["oneTimeLink"]
    assert (view["status"], view["ownerName"], view["ownerPhone"]) == ("USED", "Dr Who", "+44 7700 900999")


async def test_existing_customer_is_found_and_never_changed(api):
    clinic, _, token = await setup(api)
    booked = (
        await api.data(
            BOOK,
            {
                "t": token,
                "i": {
                    **details(clinic, local(clinic.tz, 4, 10), email="ADA@example.com"),
                    "firstName": "Mallory",
                    "mobilePhone": "+1 555 0100",
                },
            },
            token=None,
        )
    )["bookViaOneTimeLink"]
    assert booked["__typename"] == "OneTimeBooking"
    ada = await Customer.get(id=int(clinic.customer))
    assert (ada.first_name, ada.email, ada.mobile_phone) == ("Ada", "ada@example.com", "+44 7700 900123")
    assert await Appointment.filter(customer_id=ada.id).count() == 1
    assert await Customer.filter(location_id=int(clinic.location)).count() == 1


async def test_bad_input_changes_nothing_and_keeps_the_link(api):
    clinic, _, token = await setup(api)
    other = (
        await api.data(
            'mutation($l: ID!) { createService(input: {locationId: $l, name: "Other", durationMinutes: 30}) { ... on Service { id } } }',
            {"l": clinic.location},
        )
    )["createService"]["id"]
    cases = [
        ({**details(clinic, local(clinic.tz, 4, 10)), "email": "not-an-email"}, "ValidationError"),
        ({**details(clinic, local(clinic.tz, 4, 10)), "firstName": " "}, "ValidationError"),
        ({**details(clinic, local(clinic.tz, 4, 10)), "serviceId": other}, "ValidationError"),
        ({**details(clinic, local(clinic.tz, 4, 10)), "serviceId": "999999"}, "ValidationError"),
        (details(clinic, local(clinic.tz, 4, 10, 5)), "ValidationError"),
    ]
    for variables, expected in cases:
        result = (await api.data(BOOK, {"t": token, "i": variables}, token=None))["bookViaOneTimeLink"]
        assert result["__typename"] == expected, (variables, result)
    assert (await api.data(VIEW, {"t": token}, token=None))["oneTimeLink"]["status"] == "ACTIVE"
    assert await Customer.all().count() == 1 and await Appointment.all().count() == 0
    refused = (await api.data(CREATE, {"c": clinic.calendar, "s": [other]}))["createOneTimeLink"]
    assert (refused["__typename"], refused["field"]) == ("ValidationError", "serviceIds[0]")
    past = (await api.data(CREATE, {"c": clinic.calendar, "e": "2020-01-01T00:00:00Z"}))["createOneTimeLink"]
    assert (past["__typename"], past["field"]) == ("ValidationError", "expiresAt")
    beyond = (await api.data(CREATE, {"c": clinic.calendar, "e": "9999-12-31T23:59:59-12:00"}))["createOneTimeLink"]
    assert (beyond["__typename"], beyond["field"]) == ("ValidationError", "expiresAt")


async def test_expired_revoked_disabled_and_unknown(api, advance_clock):
    clinic, link, token = await setup(api)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
    expiring = (await api.data(CREATE, {"c": clinic.calendar, "e": soon}))["createOneTimeLink"]
    revoked = (
        await api.data(
            "mutation($id: ID!) { revokeOneTimeLink(id: $id) { __typename ... on OneTimeLink { status } } }",
            {"id": link["id"]},
        )
    )["revokeOneTimeLink"]
    assert revoked == {"__typename": "OneTimeLink", "status": "REVOKED"}
    page = await api.client.get(f"/book/{token}")
    assert page.status_code == 410 and "no longer valid" in page.text and "Dr Who" in page.text
    advance_clock(5 * 60)
    expired_token = expiring["url"].rsplit("/", 1)[1]
    result = (await api.data(BOOK, {"t": expired_token, "i": details(clinic, local(clinic.tz, 4, 10))}, token=None))[
        "bookViaOneTimeLink"
    ]
    assert (result["__typename"], result["status"]) == ("LinkUnavailable", "EXPIRED")
    assert (await api.client.get(f"/book/{expired_token}")).status_code == 410
    statuses = {e["node"]["status"] for e in (await api.data(LIST, {"c": clinic.calendar}))["oneTimeLinks"]["edges"]}
    assert statuses == {"REVOKED", "EXPIRED"}
    fresh = (await api.data(CREATE, {"c": clinic.calendar}))["createOneTimeLink"]
    fresh_token = fresh["url"].rsplit("/", 1)[1]
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: false) { __typename } }',
        {"l": clinic.location},
    )
    disabled, unknown = (
        await api.client.get(f"/book/{fresh_token}"),
        await api.client.get(f"/book/{secrets.token_urlsafe(32)}"),
    )
    without_nonce = lambda r: re.sub(r'nonce="[^"]+"', "", r.text)  # noqa: E731
    assert disabled.status_code == unknown.status_code == 404 and without_nonce(disabled) == without_nonce(unknown)
    assert (await api.data(VIEW, {"t": fresh_token}, token=None))["oneTimeLink"]["__typename"] == "NotFound"
    assert (await api.data(LIST, {"c": clinic.calendar}))["oneTimeLinks"]["__typename"] == "PluginDisabled"
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    assert (await api.client.get(f"/book/{fresh_token}")).status_code == 200
    assert (await api.client.get(f"/book/{secrets.token_urlsafe(32)}")).status_code == 404


async def test_the_pages_book_with_a_post_and_then_send_people_to_the_owner(api):
    clinic, _, token = await setup(api)
    start = local(clinic.tz, 5, 10)
    first = await api.client.get(f"/book/{token}")  # one service: straight to the times, one day at a time
    assert first.status_code == 200 and "Choose a time" in first.text and 'aria-current="date"' in first.text
    slots = await api.client.get(f"/book/{token}", params={"day": start.date().isoformat()})
    assert (
        slots.status_code == 200
        and "Choose a time" in slots.text
        and f"start={start.isoformat()}".replace("+", "%2B").replace(":", "%3A") in slots.text
    )
    form = await api.client.get(f"/book/{token}", params={"service": clinic.service, "start": start.isoformat()})
    assert form.status_code == 200 and "Your details" in form.text
    fields = {
        "csrf_token": CSRF_RE.search(form.text).group(1),
        "service": clinic.service,
        "start": start.isoformat(),
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@example.com",
        "mobile_phone": "",
    }
    for method in ("GET", "HEAD"):
        assert (await api.client.request(method, f"/book/{token}", params=fields)).status_code == 200
    assert (await api.client.post(f"/book/{token}", data={**fields, "csrf_token": "forged"})).status_code == 403
    assert await Appointment.all().count() == 0
    done = await api.client.post(f"/book/{token}", data=fields)
    assert done.status_code == 200 and "You are booked" in done.text
    again = await api.client.get(f"/book/{token}")
    assert (
        again.status_code == 410
        and "This link has already been used." in again.text
        and "Dr Who" in again.text
        and "+44 7700 900999" in again.text
    )
    assert await Appointment.all().count() == 1
