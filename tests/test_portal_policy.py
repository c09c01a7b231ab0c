"""Client portal policy: the location's cancellation rules, terms, access settings, new clients,
"any" calendar, staff notice settings, and the portal's address (unique slug, HQ branches)."""

from __future__ import annotations

from helpers import later_today, local
from portal_helpers import BOOK, CANCEL, PASSWORD, REGISTER, Customer, portal_clinic, signed_up

from core.models import Appointment, AppointmentEvent, OutboxMessage

SETTINGS = 'mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) { __typename ... on ValidationError { field message } ... on PluginState { settings } } }'


async def _settings(api, location, **values):
    return (await api.data(SETTINGS, {"l": location, "s": values}))["updatePluginSettings"]


async def test_cancelling_inside_the_notice_is_refused_with_the_policy_text(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(
        api, rules={"cancellationNoticeHours": 24, "cancellationPolicy": "Late cancellations are charged in full."}
    )
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    soon = later_today(clinic.tz, 3)
    booked = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": soon.isoformat()}}))["portalBook"]
    assert booked["__typename"] == "PortalAppointment", booked
    listed = await grace.gql(
        "{ portalAppointments { ... on PortalAppointmentList { appointments { canCancel cancelRefusal } } } }"
    )
    item = listed["portalAppointments"]["appointments"][0]
    assert item["canCancel"] is False and "Late cancellations are charged in full." in item["cancelRefusal"]
    refused = (await grace.gql(CANCEL, {"a": booked["id"]}))["portalCancel"]
    assert refused["__typename"] == "RuleViolation" and refused["rule"] == "CANCELLATION_NOTICE"
    assert "Late cancellations are charged in full." in refused["message"]
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "CONFIRMED"
    await grace.close()


async def test_terms_are_required_when_set_and_recorded_on_the_appointment(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api, {"termsAndConditions": "No refunds."})
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    start = local(clinic.tz, 2, 9)
    refused = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": start.isoformat()}}))["portalBook"]
    assert refused == {"__typename": "ValidationError", "field": "acceptTerms", "message": refused["message"]}
    assert not await Appointment.filter(location_id=int(clinic.location)).exists()
    booked = (
        await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": start.isoformat(), "acceptTerms": True}})
    )["portalBook"]
    event = await AppointmentEvent.get(appointment_id=int(booked["id"]), action="TERMS_ACCEPTED")
    assert event.after == {"termsAndConditions": "No refunds."} and event.actor_kind.value == "PORTAL"
    history = await api.data(
        "query($a: ID!) { appointment(id: $a) { ... on Appointment { history { action actorKind } } } }",
        {"a": booked["id"]},
    )
    assert {"action": "TERMS_ACCEPTED", "actorKind": "PORTAL"} in history["appointment"]["history"]
    await grace.close()


async def test_access_settings_refuse_booking_and_cancelling(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    booked = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": local(clinic.tz, 2, 9).isoformat()}}))[
        "portalBook"
    ]
    assert (await _settings(api, clinic.location, allowBooking=False, allowCancelling=False))[
        "__typename"
    ] == "PluginState"
    no_booking = (
        await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": local(clinic.tz, 2, 10).isoformat()}})
    )["portalBook"]
    assert no_booking["__typename"] == "RuleViolation" and no_booking["rule"] == "PORTAL_BOOKING_OFF"
    no_cancel = (await grace.gql(CANCEL, {"a": booked["id"]}))["portalCancel"]
    assert no_cancel["__typename"] == "RuleViolation" and no_cancel["rule"] == "PORTAL_CANCELLING_OFF"
    assert await Appointment.filter(location_id=int(clinic.location)).count() == 1
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "CONFIRMED"
    await grace.close()


async def test_new_clients_refused_when_not_accepted_but_known_customers_get_a_password_link(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api, {"acceptNewClients": False})
    visitor = Customer(api)
    new = {"firstName": "New", "lastName": "Client", "email": "new@example.com", "password": PASSWORD}
    refused = (await visitor.gql(REGISTER, {"s": slug, "i": new}))["portalRegister"]
    assert refused["__typename"] == "RuleViolation" and refused["rule"] == "NEW_CLIENTS_NOT_ACCEPTED"
    known = {**new, "firstName": "Mallory", "email": "ADA@example.com"}  # the clinic's customer Ada
    assert (await visitor.gql(REGISTER, {"s": slug, "i": known}))["portalRegister"]["__typename"] == "PortalMessage"
    await smtp.wait_for(1)
    mail = smtp.received[0]
    assert (
        mail.recipients == ["ada@example.com"]
        and "choose your password" in mail.message.get_body(("plain",)).get_content()
    )
    assert "Mallory" not in mail.message.get_body(("plain",)).get_content()  # nothing typed into the form goes into it
    assert await OutboxMessage.filter(to_address="new@example.com").count() == 0
    await visitor.close()


async def test_any_calendar_books_the_free_one_with_the_fewest_appointments_that_day(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    second = (
        await api.data(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Dr Quinn"}) { ... on Calendar { id } } }',
            {"l": clinic.location},
        )
    )["createCalendar"]["id"]
    await api.data(
        'mutation($c: ID!) { setRoster(calendarId: $c, rules: [{weekday: MONDAY, start: "00:00", end: "24:00"}, {weekday: TUESDAY, start: "00:00", end: "24:00"}, {weekday: WEDNESDAY, start: "00:00", end: "24:00"}, {weekday: THURSDAY, start: "00:00", end: "24:00"}, {weekday: FRIDAY, start: "00:00", end: "24:00"}, {weekday: SATURDAY, start: "00:00", end: "24:00"}, {weekday: SUNDAY, start: "00:00", end: "24:00"}]) { __typename } }',
        {"c": second},
    )
    await api.data(
        "mutation($s: ID!, $a: ID!, $b: ID!) { updateService(id: $s, input: {calendarIds: [$a, $b]}) { __typename } }",
        {"s": clinic.service, "a": clinic.calendar, "b": second},
    )
    for hour in (8, 9):  # Dr Who (the first calendar) is busier that day
        await api.data(
            "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "u": clinic.customer,
                "t": local(clinic.tz, 2, hour).isoformat(),
            },
        )
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    slots = await grace.gql(
        "query($s: String!, $v: ID!, $f: DateTime!, $t: DateTime!) { portalAvailableSlots(slug: $s, serviceId: $v, from: $f, to: $t) { ... on PortalSlotList { slots { start calendarIds } } } }",
        {
            "s": slug,
            "v": clinic.service,
            "f": local(clinic.tz, 2, 8).isoformat(),
            "t": local(clinic.tz, 2, 11).isoformat(),
        },
    )
    by_start = {s["start"]: sorted(s["calendarIds"]) for s in slots["portalAvailableSlots"]["slots"]}
    assert by_start[local(clinic.tz, 2, 8).isoformat()] == [second] and by_start[
        local(clinic.tz, 2, 10).isoformat()
    ] == sorted([clinic.calendar, second])
    booked = (
        await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": local(clinic.tz, 2, 10).isoformat()}})
    )["portalBook"]
    assert booked["calendarName"] == "Dr Quinn"
    await grace.close()


async def test_notice_settings_choose_templates_and_recipients(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    saved = await api.data(
        'mutation($l: ID!) { saveEmailTemplate(input: {locationId: $l, name: "Desk", event: "PORTAL_APPOINTMENT_BOOKED", role: STAFF, subject: "Desk: {ClientFullName}", body: "{ClientFullName} <{ClientEmail}> {ServiceName} {AppointmentStartDateTime} {PortalLink}"}) { __typename ... on EmailTemplate { id } ... on ValidationError { message } } }',
        {"l": clinic.location},
    )
    template = saved["saveEmailTemplate"]["id"]
    wrong_event = await _settings(api, clinic.location, notifyOnCancelTemplate=template)
    assert wrong_event["__typename"] == "ValidationError" and wrong_event["field"] == "settings.notifyOnCancelTemplate"
    unknown = await _settings(api, clinic.location, notifyOnNewTemplate="999999")
    assert unknown["__typename"] == "ValidationError"
    bad_address = await _settings(api, clinic.location, newAppointmentAddresses=["not an email"])
    assert (
        bad_address["__typename"] == "ValidationError" and bad_address["field"] == "settings.newAppointmentAddresses[0]"
    )
    changed = await _settings(
        api,
        clinic.location,
        notifyOnNewTemplate=None,
        newAppointmentAddresses=["desk@clinic.example", "boss@clinic.example"],
        newAppointmentAddressesTemplate=template,
    )
    assert changed["__typename"] == "PluginState"
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    start = local(clinic.tz, 2, 9)
    await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": start.isoformat()}})
    await smtp.wait_for(4)
    staff = [m for m in smtp.received if m.recipients != ["grace@example.com"]]
    assert sorted(m.recipients[0] for m in staff) == [
        "boss@clinic.example",
        "desk@clinic.example",
    ]  # not the diary contact: turned off
    body = staff[0].message.get_body(("plain",)).get_content()
    assert "Grace Hopper <grace@example.com> Checkup" in body and f"http://testserver/portal/{slug}" in body
    assert staff[0].message["Subject"] == "Desk: Grace Hopper"
    await grace.close()


async def test_slugs_are_unique_generated_and_validated(api):
    first, slug = await portal_clinic(api)
    assert slug == "clinic"
    second, other = await portal_clinic(api)
    assert other == f"clinic-{second.location}"
    taken = await _settings(api, second.location, slug="clinic")
    assert (
        taken["__typename"] == "ValidationError" and taken["field"] == "settings.slug" and "taken" in taken["message"]
    )
    malformed = await _settings(api, second.location, slug="Not A Slug!")
    assert malformed["__typename"] == "ValidationError" and malformed["field"] == "settings.slug"
    moved = await _settings(api, second.location, slug="harley-street")
    assert moved["settings"]["slug"] == "harley-street"
    url = await api.data(
        "query($l: ID!) { portalUrl(locationId: $l) { ... on PortalUrl { url slug } } }", {"l": second.location}
    )
    assert url["portalUrl"] == {"url": "http://testserver/portal/harley-street", "slug": "harley-street"}
    assert (await _settings(api, first.location, slug=other))[
        "__typename"
    ] == "PluginState"  # the old address was freed


async def test_a_branch_sharing_its_headquarters_settings_has_no_portal_unless_enabled_there(api):
    hq, slug = await portal_clinic(api)
    branch = (
        await api.data(
            'mutation($h: ID!) { createLocation(input: {name: "Branch", timezone: "Europe/London", currency: "EUR", headquartersId: $h, sharesHeadquartersSettings: true}) { ... on Location { id } } }',
            {"h": hq.location},
        )
    )["createLocation"]["id"]
    off = await api.data("query($l: ID!) { portalUrl(locationId: $l) { __typename } }", {"l": branch})
    assert off["portalUrl"]["__typename"] == "PluginDisabled"
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: true) { __typename } }',
        {"l": branch},
    )
    on = await api.data(
        "query($l: ID!) { portalUrl(locationId: $l) { __typename ... on PortalUrl { slug } } }", {"l": branch}
    )
    assert on["portalUrl"]["slug"] == "branch" and on["portalUrl"]["slug"] != slug
