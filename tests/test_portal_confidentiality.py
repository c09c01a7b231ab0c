"""Two customers at one location: neither reads nor changes the other's appointments or account
through any portal field or page. The cases are checked against the schema's portal fields and
the plugin's routes, so a new field or page without a case fails here."""

from __future__ import annotations

import re

from helpers import local
from portal_helpers import BOOK, LOGIN, PASSWORD, portal_clinic, signed_up

from core.models import Appointment, AppointmentStatus, Customer as CustomerRow
from plugins.client_portal.routes import ROUTES

SECRET = "Gracesecret"
ALAN_PASSWORD = "alan's own password"
INTROSPECT = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"


# Each portal root field as Alan calls it, aiming at Grace wherever the field takes an id or an email.
FIELDS = {
    "portalMe": (
        "{ portalMe { __typename ... on PortalCustomer { firstName lastName email mobilePhone } } }",
        lambda i: {},
    ),
    "portalAppointments": (
        "query { up: portalAppointments(upcoming: true) { ... on PortalAppointmentList { appointments { id serviceName startsAt } } }"
        " past: portalAppointments(upcoming: false) { ... on PortalAppointmentList { appointments { id } } } }",
        lambda i: {},
    ),
    "portalServices": (
        "query($s: String!) { portalServices(slug: $s) { __typename ... on PortalServices { services { name calendars { name } } } } }",
        lambda i: {"s": i["slug"]},
    ),
    "portalAvailableSlots": (
        "query($s: String!, $v: ID!, $f: DateTime!, $t: DateTime!) { portalAvailableSlots(slug: $s, serviceId: $v, from: $f, to: $t) {"
        " __typename ... on PortalSlotList { slots { start end calendarIds } } } }",
        lambda i: {"s": i["slug"], "v": i["service"], "f": i["day"], "t": i["day_end"]},
    ),
    "portalBook": (BOOK, lambda i: {"i": {"serviceId": i["service"], "start": i["grace_start"]}}),
    "portalCancel": (
        "mutation($a: ID!) { portalCancel(appointmentId: $a, reason: null) { __typename } }",
        lambda i: {"a": i["grace_appointment"]},
    ),
    "portalLogin": (LOGIN, lambda i: {"s": i["slug"], "e": "grace@example.com", "p": ALAN_PASSWORD}),
    "portalRegister": (
        'mutation($s: String!) { portalRegister(slug: $s, input: {firstName: "Alan", lastName: "T", email: "grace@example.com",'
        ' password: "alan takes over"}) { __typename } }',
        lambda i: {"s": i["slug"]},
    ),
    "portalRequestPasswordReset": (
        'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "grace@example.com") { __typename } }',
        lambda i: {"s": i["slug"]},
    ),
    "portalVerifyEmail": (
        "mutation($t: String!) { portalVerifyEmail(token: $t) { __typename } }",
        lambda i: {"t": "g" * 43},
    ),
    "portalResetPassword": (
        'mutation($t: String!) { portalResetPassword(token: $t, password: "alan takes over") { __typename } }',
        lambda i: {"t": "g" * 43},
    ),
    "portalChangePassword": (
        'mutation { portalChangePassword(currentPassword: "alan\'s own password", newPassword: "alan\'s new password") { __typename } }',
        lambda i: {},
    ),
    "portalUpdateProfile": (
        'mutation { portalUpdateProfile(input: {currentPassword: "alan\'s new password", firstName: "Alan2"}) {'
        " __typename ... on PortalCustomer { firstName email } } }",
        lambda i: {},
    ),
    "portalUrl": ("query($l: ID!) { portalUrl(locationId: $l) { __typename } }", lambda i: {"l": i["location"]}),
    "portalLogout": ("mutation { portalLogout { __typename } }", lambda i: {}),
}

# Each portal page as Alan opens or posts it, aiming at Grace's appointment where the URL takes one.
PAGES = {
    "/{slug}": "/portal/{slug}",
    "/{slug}/book": "/portal/{slug}/book?service={service}&start={grace_start_q}",
    "/{slug}/cancel/{appointment}": "/portal/{slug}/cancel/{grace_appointment}",
    "/{slug}/login": "/portal/{slug}/login",
    "/{slug}/logout": "/portal/{slug}/logout",
    "/{slug}/register": "/portal/{slug}/register",
    "/{slug}/forgot": "/portal/{slug}/forgot",
    "/{slug}/verify/{token}": "/portal/{slug}/verify/" + "g" * 43,
    "/{slug}/password/{token}": "/portal/{slug}/password/" + "g" * 43,
    "/{slug}/from-link/{token}": "/portal/{slug}/from-link/forged.token",
    "/{slug}/profile": "/portal/{slug}/profile",
}


async def _grace_state(appointment_id: int):
    row = await Appointment.get(id=appointment_id)
    customer = await CustomerRow.get(id=row.customer_id)
    return (row.status, row.starts_at, row.sequence, customer.first_name, customer.last_name, customer.mobile_phone)


async def test_two_customers_never_see_or_change_each_other(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com", first_name=SECRET, last_name="Hopper")
    alan = await signed_up(api, smtp, slug, "alan@example.com", first_name="Alan", last_name="Turing")
    await alan.gql(
        'mutation { portalChangePassword(currentPassword: "%s", newPassword: "%s") { __typename } }'
        % (PASSWORD, ALAN_PASSWORD)
    )
    grace_start = local(clinic.tz, 3, 10)
    booked = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": grace_start.isoformat()}}))[
        "portalBook"
    ]
    assert booked["__typename"] == "PortalAppointment"
    alan_booked = (
        await alan.gql(BOOK, {"i": {"serviceId": clinic.service, "start": local(clinic.tz, 3, 11).isoformat()}})
    )["portalBook"]
    grace_id = int(booked["id"])
    before = await _grace_state(grace_id)
    ids = {
        "slug": slug,
        "service": clinic.service,
        "location": clinic.location,
        "grace_appointment": booked["id"],
        "grace_start": grace_start.isoformat(),
        "grace_start_q": grace_start.isoformat().replace("+", "%2B"),
        "day": local(clinic.tz, 3, 0).isoformat(),
        "day_end": local(clinic.tz, 4, 0).isoformat(),
    }

    schema = await api.data(INTROSPECT)
    portal_fields = {
        f["name"]
        for kind in ("queryType", "mutationType")
        for f in schema["__schema"][kind]["fields"]
        if f["name"].startswith("portal")
    }
    assert portal_fields == set(FIELDS), "add the new portal field to FIELDS"
    assert {route.path for route in ROUTES} == set(PAGES), "add the new portal page to PAGES"

    await smtp.settle()  # the bookings' own emails have all arrived
    mails_before = len(smtp.received)
    answers = {}
    for field, (document, variables) in FIELDS.items():
        response = await alan.client.post("/graphql", json={"query": document, "variables": variables(ids)})
        body = response.json()
        assert not body.get("errors"), (field, body)
        answers[field] = body["data"]
        text = str(body["data"])
        assert SECRET not in text and "Hopper" not in text, (field, body)
        assert booked["id"] not in re.findall(r"'id': '(\d+)'", text), (field, body)
    assert answers["portalCancel"]["portalCancel"]["__typename"] == "NotFound"
    assert answers["portalBook"]["portalBook"]["__typename"] == "SlotUnavailable"
    assert answers["portalLogin"]["portalLogin"]["__typename"] == "InvalidCredentials"
    assert answers["portalUrl"]["portalUrl"]["__typename"] == "PermissionDenied"
    assert [a["id"] for a in answers["portalAppointments"]["up"]["appointments"]] == [alan_booked["id"]]
    offered = [s["start"] for s in answers["portalAvailableSlots"]["portalAvailableSlots"]["slots"]]
    assert (
        grace_start.isoformat() not in offered and local(clinic.tz, 3, 9).isoformat() in offered
    )  # Grace's time: only not free
    assert answers["portalUpdateProfile"]["portalUpdateProfile"] == {
        "__typename": "PortalCustomer",
        "firstName": "Alan2",
        "email": "alan@example.com",
    }
    # The reset Alan asked for went to Grace's own address, not to him; her password still works.
    await smtp.wait_for(mails_before + 2)
    assert all(mail.recipients == ["grace@example.com"] for mail in smtp.received[mails_before:])
    assert (await grace.gql(LOGIN, {"s": slug, "e": "grace@example.com", "p": PASSWORD}))["portalLogin"][
        "__typename"
    ] == "PortalSignedIn"

    # The pages: Alan (signed in again) opens and posts each, aimed at Grace's appointment.
    assert (await alan.gql(LOGIN, {"s": slug, "e": "alan@example.com", "p": "alan's new password"}))["portalLogin"][
        "__typename"
    ] == "PortalSignedIn"
    for template, path in PAGES.items():
        concrete = path.format(**ids)
        shown = await alan.client.get(concrete)
        posted = await alan.client.post(
            concrete.split("?")[0],
            data={
                "reason": "",
                "note": "x",
                "start": grace_start.isoformat(),
                "service": clinic.service,
                "email": "grace@example.com",
                "password": "x",
            },
        )
        for response in (shown, posted):
            assert response.status_code < 500, (template, response.status_code)
            assert SECRET not in response.text and "Hopper" not in response.text, (template, response.text[:500])
    cancel_page = await alan.client.get(PAGES["/{slug}/cancel/{appointment}"].format(**ids))
    assert cancel_page.status_code == 404 and "could not find that appointment" in cancel_page.text
    assert await _grace_state(grace_id) == before
    assert (await Appointment.get(id=grace_id)).status is AppointmentStatus.CONFIRMED
    await grace.close()
    await alan.close()
