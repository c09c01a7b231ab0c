"""Scope and confidentiality, generated from the schema: every root field is called by a manager
of location B against location A's objects, and anonymously. Each must refuse (or, for lists,
leave A out) and change nothing, while the same call by the owner works. A root field missing
from CALLS fails the test, so a new field cannot escape it."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets

import pytest
from conftest import new_test_host

from core.models import Appointment, DeliveryStatus, OutboxMessage, StaffUser
from core.security.accounts import issue_token
from plugins.action_links.links import token_for

SECRET = "SECRET-A"


@pytest.fixture
async def api(api_factory, smtp):
    """The app with the test-only plugins installed, so their fields are walked too, sending its
    emails to the test's SMTP server."""
    return await api_factory(host=new_test_host(), smtp_url=smtp.url())


INTROSPECT = """{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"""

DENIED = {"PermissionDenied", "NotFound"}
PUBLIC = {"staffLogin"}


async def _setup(api, smtp) -> dict:
    """Location A (with a calendar, service, customer, exception, manager) and location B with its manager."""
    q = api.data
    a = (
        await q(
            'mutation { createLocation(input: {name: "%s clinic", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
            % SECRET
        )
    )["createLocation"]["id"]
    b = (
        await q(
            'mutation { createLocation(input: {name: "B clinic", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
        )
    )["createLocation"]["id"]
    await q("mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": a})
    await q(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "probe", enabled: true) { __typename } }',
        {"l": a},
    )
    await q(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": a},
    )
    await q(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": a},
    )
    cal = (
        await q(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "%s diary"}) { ... on Calendar { id } } }'
            % SECRET,
            {"l": a},
        )
    )["createCalendar"]["id"]
    svc = (
        await q(
            'mutation($l: ID!, $c: ID!) { createService(input: {locationId: $l, name: "%s service", durationMinutes: 30, calendarIds: [$c]}) { ... on Service { id } } }'
            % SECRET,
            {"l": a, "c": cal},
        )
    )["createService"]["id"]
    cust = (
        await q(
            'mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "%s", lastName: "Customer", email: "secret@a.example"}) { ... on Customer { id } } }'
            % SECRET,
            {"l": a},
        )
    )["createCustomer"]["id"]
    exc = (
        await q(
            'mutation($c: ID!) { addCalendarException(input: {calendarId: $c, date: "2030-01-02", kind: TIME_OFF, note: "%s"}) { ... on CalendarException { id } } }'
            % SECRET,
            {"c": cal},
        )
    )["addCalendarException"]["id"]
    appointments = []
    starts = []
    for days in (5, -2, -3):
        start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
        booked = (
            await q(
                "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}, override: true) { __typename ... on Appointment { id } } }",
                {"c": cal, "s": svc, "u": cust, "t": start.isoformat()},
            )
        )["bookAppointment"]
        appointments.append(booked["id"])
        starts.append(start.isoformat())
    template = (
        await q(
            'mutation($l: ID!) { saveEmailTemplate(input: {locationId: $l, name: "%s template", event: "APPOINTMENT_CANCELLED", role: STAFF, subject: "s", body: "b"}) { ... on EmailTemplate { id } } }'
            % SECRET,
            {"l": a},
        )
    )["saveEmailTemplate"]["id"]
    delivery = await OutboxMessage.filter(location_id=int(a)).order_by("id").first()
    await OutboxMessage.filter(id=delivery.id).update(status=DeliveryStatus.FAILED, subject=f"{SECRET} subject")
    action_token = await token_for(api.settings, await Appointment.get(id=int(appointments[0])))
    one_time = (
        await q(
            'mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c, note: "%s"}) { ... on OneTimeLink { id url } } }'
            % SECRET,
            {"c": cal},
        )
    )["createOneTimeLink"]
    portal = await _portal_setup(api, smtp, a)
    users = {}
    for name, loc in (("a", a), ("b", b)):
        created = (
            await q(
                'mutation($e: String!, $n: String!, $l: ID!) { createStaffUser(input: {email: $e, name: $n, password: "manager-password-1", role: MANAGER, locationIds: [$l]}) { ... on StaffUser { id } } }',
                {
                    "e": f"manager-{name}@test.example",
                    "n": f"{SECRET} manager" if name == "a" else "B manager",
                    "l": loc,
                },
            )
        )["createStaffUser"]["id"]
        user = await StaffUser.get(id=int(created))
        users[name] = (created, (await issue_token(user, 24)).token)
    return {
        "a": a,
        "b": b,
        "cal": cal,
        "svc": svc,
        "cust": cust,
        "exc": exc,
        "appt": appointments[0],
        "template": template,
        "action_token": action_token,
        "link": one_time["id"],
        "link_token": one_time["url"].rsplit("/", 1)[1],
        "appt_start": starts[0],
        "delivery": str(delivery.id),
        "past1": appointments[1],
        "past2": appointments[2],
        "future": FUTURE.isoformat(),
        "later": LATER.isoformat(),
        "manager_a": users["a"][0],
        "manager_a_token": users["a"][1],
        "manager_b_token": users["b"][1],
        **portal,
    }


async def _portal_link(smtp, to: str) -> str:
    """The token of the newest portal link emailed to `to`, as its customer receives it."""
    await smtp.settle()
    mail = [m for m in smtp.received if to in m.recipients][-1]
    return re.search(r"/(?:verify|password)/([A-Za-z0-9_-]+)", mail.message.get_body(("plain",)).get_content()).group(1)


async def _portal_setup(api, smtp, a: str) -> dict:
    """The client portal on at A; A's customer with a password; unused verification and reset links."""
    q = api.data
    await q(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: true) { __typename } }',
        {"l": a},
    )
    slug = (await q("query($l: ID!) { portalUrl(locationId: $l) { ... on PortalUrl { slug } } }", {"l": a}))[
        "portalUrl"
    ]["slug"]
    ask = 'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "secret@a.example") { __typename } }'
    await q(ask, {"s": slug}, token=None)
    reset = 'mutation($t: String!) { portalResetPassword(token: $t, password: "portal-password-1") { __typename } }'
    assert (await q(reset, {"t": await _portal_link(smtp, "secret@a.example")}, token=None))["portalResetPassword"][
        "__typename"
    ] == "PortalMessage"
    await q(ask, {"s": slug}, token=None)
    register = 'mutation($s: String!) { portalRegister(slug: $s, input: {firstName: "New", lastName: "Client", email: "new@a.example", password: "portal-password-3"}) { __typename } }'
    await q(register, {"s": slug}, token=None)
    return {
        "slug": slug,
        "reset_token": await _portal_link(smtp, "secret@a.example"),
        "verify_token": await _portal_link(smtp, "new@a.example"),
    }


FUTURE = (dt.datetime.now(dt.UTC) + dt.timedelta(days=8)).replace(hour=9, minute=0, second=0, microsecond=0)
LATER = FUTURE + dt.timedelta(days=1)
WINDOW = {"f": FUTURE.isoformat(), "t": (FUTURE + dt.timedelta(days=7)).isoformat()}

# Each root field, in the order called: (document, variables from the fixture ids, kind).
# Token revocation comes last: the owner control revokes the manager of A's tokens. kind "denied": the caller
# outside A's scope gets PermissionDenied/NotFound; "list": the answer leaves A out; "token": a link
# token authorises (a guessed one answers NotFound); "slug": a portal's address (a guessed one answers
# NotFound); "session": a customer's portal session (NotSignedIn without); "public": no authorisation needed.
CALLS = {
    "locations": (
        "{ locations { __typename ... on LocationConnection { edges { node { name } } } } }",
        lambda i: {},
        "list",
    ),
    "location": (
        "query($id: ID!) { location(id: $id) { __typename ... on Location { name } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "calendars": (
        "query($id: ID!) { calendars(locationId: $id) { __typename ... on CalendarConnection { edges { node { name } } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "calendar": (
        "query($id: ID!) { calendar(id: $id) { __typename ... on Calendar { name } } }",
        lambda i: {"id": i["cal"]},
        "denied",
    ),
    "services": (
        "query($id: ID!) { services(locationId: $id) { __typename ... on ServiceConnection { edges { node { name } } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "customers": (
        "query($id: ID!) { customers(locationId: $id) { __typename ... on CustomerConnection { edges { node { firstName } } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "staffUsers": (
        "{ staffUsers { __typename ... on StaffUserConnection { edges { node { name locations { name } } } } } }",
        lambda i: {},
        "list",
    ),
    "createLocation": (
        'mutation { createLocation(input: {name: "New", timezone: "UTC", currency: "EUR"}) { __typename } }',
        lambda i: {},
        "denied",
    ),
    "updateLocation": (
        'mutation($id: ID!) { updateLocation(id: $id, input: {name: "Renamed"}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "createCalendar": (
        'mutation($id: ID!) { createCalendar(input: {locationId: $id, name: "New"}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "updateCalendar": (
        'mutation($id: ID!) { updateCalendar(id: $id, input: {name: "Renamed"}) { __typename } }',
        lambda i: {"id": i["cal"]},
        "denied",
    ),
    "setRoster": (
        'mutation($id: ID!) { setRoster(calendarId: $id, rules: [{weekday: MONDAY, start: "09:00", end: "10:00"}]) { __typename } }',
        lambda i: {"id": i["cal"]},
        "denied",
    ),
    "addCalendarException": (
        'mutation($id: ID!) { addCalendarException(input: {calendarId: $id, date: "2030-02-02", kind: TIME_OFF}) { __typename } }',
        lambda i: {"id": i["cal"]},
        "denied",
    ),
    "removeCalendarException": (
        "mutation($id: ID!) { removeCalendarException(id: $id) { __typename } }",
        lambda i: {"id": i["exc"]},
        "denied",
    ),
    "createService": (
        'mutation($id: ID!) { createService(input: {locationId: $id, name: "New", durationMinutes: 15}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "updateService": (
        'mutation($id: ID!) { updateService(id: $id, input: {name: "Renamed"}) { __typename } }',
        lambda i: {"id": i["svc"]},
        "denied",
    ),
    "createCustomer": (
        'mutation($id: ID!) { createCustomer(input: {locationId: $id, firstName: "N", lastName: "C", email: "n@c.example"}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "updateCustomer": (
        'mutation($id: ID!) { updateCustomer(id: $id, input: {firstName: "Renamed"}) { __typename } }',
        lambda i: {"id": i["cust"]},
        "denied",
    ),
    "appointment": (
        "query($id: ID!) { appointment(id: $id) { __typename ... on Appointment { customer { firstName } } } }",
        lambda i: {"id": i["appt"]},
        "denied",
    ),
    "appointments": (
        "query($id: ID!) { appointments(locationId: $id) { __typename ... on AppointmentConnection { edges { node { customer { firstName } } } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "availableSlots": (
        "query($c: ID!, $s: ID!, $f: DateTime!, $t: DateTime!) { availableSlots(calendarId: $c, serviceId: $s, from: $f, to: $t) { __typename } }",
        lambda i: {"c": i["cal"], "s": i["svc"], **WINDOW},
        "denied",
    ),
    "availability": (
        "query($l: ID!, $s: ID!, $f: DateTime!, $t: DateTime!) { availability(locationId: $l, serviceIds: [$s], from: $f, to: $t) { __typename ... on Availability { entries { slots { start } } } } }",
        lambda i: {"l": i["a"], "s": i["svc"], **WINDOW},
        "denied",
    ),
    "bookAppointment": (
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}, override: true) { __typename } }",
        lambda i: {"c": i["cal"], "s": i["svc"], "u": i["cust"], "t": i["future"]},
        "denied",
    ),
    "confirmAppointment": (
        "mutation($id: ID!) { confirmAppointment(id: $id) { __typename } }",
        lambda i: {"id": i["appt"]},
        "denied",
    ),
    "rescheduleAppointment": (
        "mutation($id: ID!, $t: DateTime!) { rescheduleAppointment(id: $id, start: $t, override: true) { __typename } }",
        lambda i: {"id": i["appt"], "t": i["later"]},
        "denied",
    ),
    "cancelAppointment": (
        "mutation($id: ID!) { cancelAppointment(id: $id) { __typename } }",
        lambda i: {"id": i["appt"]},
        "denied",
    ),
    "markAppointmentCompleted": (
        "mutation($id: ID!) { markAppointmentCompleted(id: $id) { __typename } }",
        lambda i: {"id": i["past1"]},
        "denied",
    ),
    "markAppointmentNoShow": (
        "mutation($id: ID!) { markAppointmentNoShow(id: $id) { __typename } }",
        lambda i: {"id": i["past2"]},
        "denied",
    ),
    "updateLocationRules": (
        "mutation($id: ID!) { updateLocationRules(locationId: $id, input: {minNoticeMinutes: 60}) { __typename } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "updateServiceRules": (
        "mutation($id: ID!) { updateServiceRules(serviceId: $id, input: {minNoticeMinutes: 60}) { __typename } }",
        lambda i: {"id": i["svc"]},
        "denied",
    ),
    "emailPlaceholders": (
        "query($id: ID!) { emailPlaceholders(locationId: $id, role: CUSTOMER) { __typename } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "emailTemplates": (
        "query($id: ID!) { emailTemplates(locationId: $id) { __typename ... on EmailTemplateList { templates { name } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "previewEmail": (
        'query($a: ID!) { previewEmail(appointmentId: $a, templateId: "default:APPOINTMENT_BOOKED:CUSTOMER") { __typename ... on EmailPreview { body } } }',
        lambda i: {"a": i["appt"]},
        "denied",
    ),
    "emailDeliveries": (
        "query($id: ID!) { emailDeliveries(locationId: $id) { __typename ... on EmailDeliveryConnection { edges { node { subject body } } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "emailSettings": (
        "query($id: ID!) { emailSettings(locationId: $id) { __typename ... on EmailSettings { staffNotices { event } } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "saveEmailTemplate": (
        'mutation($id: ID!) { saveEmailTemplate(input: {locationId: $id, name: "New", event: "APPOINTMENT_BOOKED", role: STAFF, subject: "s", body: "b"}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "resendEmail": (
        "mutation($id: ID!) { resendEmail(deliveryId: $id) { __typename } }",
        lambda i: {"id": i["delivery"]},
        "denied",
    ),
    "updateEmailSettings": (
        "mutation($id: ID!) { updateEmailSettings(locationId: $id, input: {reminderOffsetsMinutes: [60]}) { __typename } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "deleteEmailTemplate": (
        "mutation($id: ID!) { deleteEmailTemplate(id: $id) { __typename } }",
        lambda i: {"id": i["template"]},
        "denied",
    ),
    "plugins": ("query($id: ID!) { plugins(locationId: $id) { __typename } }", lambda i: {"id": i["a"]}, "denied"),
    "setPluginEnabled": (
        'mutation($id: ID!) { setPluginEnabled(locationIds: [$id], plugin: "witness", enabled: true) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "updatePluginSettings": (
        'mutation($id: ID!) { updatePluginSettings(locationId: $id, plugin: "witness", settings: {}) { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "probeGreeting": (
        "query($id: ID!) { probeGreeting(locationId: $id) { __typename ... on ProbeGreeting { text } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "probeNote": (
        'mutation($id: ID!) { probeNote(locationId: $id, text: "x") { __typename } }',
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "actionLink": (
        "query($t: String!) { actionLink(token: $t) { __typename ... on ActionLinkView { serviceName } } }",
        lambda i: {"t": i["action_token"]},
        "token",
    ),
    "confirmViaActionLink": (
        "mutation($t: String!) { confirmViaActionLink(token: $t) { __typename } }",
        lambda i: {"t": i["action_token"]},
        "token",
    ),
    "rescheduleViaActionLink": (
        "mutation($t: String!, $s: DateTime!) { rescheduleViaActionLink(token: $t, start: $s) { __typename } }",
        lambda i: {"t": i["action_token"], "s": i["appt_start"]},
        "token",
    ),
    "cancelViaActionLink": (
        "mutation($t: String!) { cancelViaActionLink(token: $t) { __typename } }",
        lambda i: {"t": i["action_token"]},
        "token",
    ),
    "revokeActionLink": (
        "mutation($id: ID!) { revokeActionLink(appointmentId: $id) { __typename } }",
        lambda i: {"id": i["appt"]},
        "denied",
    ),
    "sendActionLink": (
        "mutation($id: ID!) { sendActionLink(appointmentId: $id) { __typename ... on ActionLinkSent { delivery { to body } } } }",
        lambda i: {"id": i["appt"]},
        "denied",
    ),
    "oneTimeLink": (
        "query($t: String!) { oneTimeLink(token: $t) { __typename ... on OneTimeLinkView { calendarName } } }",
        lambda i: {"t": i["link_token"]},
        "token",
    ),
    "oneTimeLinkSlots": (
        "query($t: String!, $s: ID!, $f: DateTime!, $to: DateTime!) { oneTimeLinkSlots(token: $t, serviceId: $s, from: $f, to: $to) { __typename } }",
        lambda i: {"t": i["link_token"], "s": i["svc"], "f": WINDOW["f"], "to": WINDOW["t"]},
        "token",
    ),
    "bookViaOneTimeLink": (
        'mutation($t: String!, $s: ID!, $st: DateTime!) { bookViaOneTimeLink(token: $t, input: {serviceId: $s, start: $st, firstName: "N", lastName: "C", email: "n@c.example"}) { __typename } }',
        lambda i: {"t": i["link_token"], "s": i["svc"], "st": i["later"]},
        "token",
    ),
    "oneTimeLinks": (
        "query($c: ID!) { oneTimeLinks(calendarId: $c) { __typename ... on OneTimeLinkConnection { edges { node { note url } } } } }",
        lambda i: {"c": i["cal"]},
        "denied",
    ),
    "createOneTimeLink": (
        "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { __typename } }",
        lambda i: {"c": i["cal"]},
        "denied",
    ),
    "revokeOneTimeLink": (
        "mutation($id: ID!) { revokeOneTimeLink(id: $id) { __typename } }",
        lambda i: {"id": i["link"]},
        "denied",
    ),
    "portalUrl": (
        "query($id: ID!) { portalUrl(locationId: $id) { __typename ... on PortalUrl { url } } }",
        lambda i: {"id": i["a"]},
        "denied",
    ),
    "portalServices": (
        "query($s: String!) { portalServices(slug: $s) { __typename ... on PortalServices { services { name } } } }",
        lambda i: {"s": i["slug"]},
        "slug",
    ),
    "portalAvailableSlots": (
        "query($s: String!, $v: ID!, $f: DateTime!, $t: DateTime!) { portalAvailableSlots(slug: $s, serviceId: $v, from: $f, to: $t) { __typename } }",
        lambda i: {"s": i["slug"], "v": i["svc"], **WINDOW},
        "slug",
    ),
    "portalRegister": (
        'mutation($s: String!) { portalRegister(slug: $s, input: {firstName: "N", lastName: "C", email: "n2@c.example", password: "portal-password-2"}) { __typename } }',
        lambda i: {"s": i["slug"]},
        "slug",
    ),
    "portalVerifyEmail": (
        "mutation($t: String!) { portalVerifyEmail(token: $t) { __typename } }",
        lambda i: {"t": i["verify_token"]},
        "token",
    ),
    "portalResetPassword": (
        'mutation($t: String!) { portalResetPassword(token: $t, password: "portal-password-1") { __typename } }',
        lambda i: {"t": i["reset_token"]},
        "token",
    ),
    "portalRequestPasswordReset": (
        'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "secret@a.example") { __typename } }',
        lambda i: {"s": i["slug"]},
        "slug",
    ),
    "portalLogin": (
        'mutation($s: String!) { portalLogin(slug: $s, email: "secret@a.example", password: "portal-password-1") { __typename ... on PortalSignedIn { customer { firstName } } } }',
        lambda i: {"s": i["slug"]},
        "slug",
    ),
    "portalMe": ("{ portalMe { __typename ... on PortalCustomer { firstName email } } }", lambda i: {}, "session"),
    "portalAppointments": (
        "{ portalAppointments { __typename ... on PortalAppointmentList { appointments { serviceName calendarName } } } }",
        lambda i: {},
        "session",
    ),
    "portalBook": (
        "mutation($v: ID!, $t: DateTime!) { portalBook(input: {serviceId: $v, start: $t}) { __typename } }",
        lambda i: {"v": i["svc"], "t": i["later"]},
        "session",
    ),
    "portalCancel": (
        "mutation($id: ID!) { portalCancel(appointmentId: $id) { __typename ... on PortalAppointment { status } } }",
        lambda i: {"id": i["appt"]},
        "session",
    ),
    "portalChangePassword": (
        'mutation { portalChangePassword(currentPassword: "portal-password-1", newPassword: "portal-password-1") { __typename } }',
        lambda i: {},
        "session",
    ),
    "portalUpdateProfile": (
        'mutation { portalUpdateProfile(input: {currentPassword: "portal-password-1", mobilePhone: "+1 555 0100"}) { __typename } }',
        lambda i: {},
        "session",
    ),
    "portalLogout": ("mutation { portalLogout { __typename } }", lambda i: {}, "session"),
    "createStaffUser": (
        'mutation { createStaffUser(input: {email: "new@test.example", password: "new-password-12", role: OWNER}) { __typename } }',
        lambda i: {},
        "denied",
    ),
    "revokeStaffToken": (
        "mutation($id: ID!) { revokeStaffToken(userId: $id) { __typename } }",
        lambda i: {"id": i["manager_a"]},
        "denied",
    ),
    "staffLogin": (
        'mutation { staffLogin(email: "manager-a@test.example", password: "manager-password-1") { __typename } }',
        lambda i: {},
        "public",
    ),
}

A_SNAPSHOT = """query($a: ID!, $cal: ID!) {
  location(id: $a) { ... on Location { name calendars { name roster { weekday start end } exceptions(from: "2030-01-01") { id note }
    services { name calendars { name } } } services { name durationMinutes rules { minNoticeMinutes } } rules { minNoticeMinutes } } }
  customers(locationId: $a) { ... on CustomerConnection { edges { node { firstName lastName email } } } }
  appointments(locationId: $a) { ... on AppointmentConnection { edges { node { status startsAt sequence history { action } } } } }
  emailTemplates(locationId: $a) { ... on EmailTemplateList { templates { name subject } } }
  emailDeliveries(locationId: $a) { ... on EmailDeliveryConnection { edges { node { status subject } } } }
  emailSettings(locationId: $a) { ... on EmailSettings { reminderOffsetsMinutes } }
  calendar(id: $cal) { ... on Calendar { name } }
  staffUsers { ... on StaffUserConnection { edges { node { name active } } } }
}"""


async def _root_fields(api) -> set[str]:
    schema = (await api.data(INTROSPECT))["__schema"]
    return {f["name"] for f in schema["queryType"]["fields"] + schema["mutationType"]["fields"]}


async def test_every_root_field_has_a_scope_case(api):
    assert await _root_fields(api) == set(CALLS), "add the new root field to CALLS in tests/test_scope.py"


@pytest.mark.parametrize("caller", ["manager_of_b", "anonymous"])
async def test_callers_outside_a_cannot_read_or_change_it(api, smtp, caller):
    ids = await _setup(api, smtp)
    token = ids["manager_b_token"] if caller == "manager_of_b" else None
    before = await api.data(A_SNAPSHOT, {"a": ids["a"], "cal": ids["cal"]})
    for field, (document, variables, kind) in CALLS.items():
        if kind == "public":
            continue
        if kind in ("token", "slug"):  # whoever holds the link or knows the portal may use it; a guess finds nothing
            guesses = {
                name: secrets.token_urlsafe(32)
                for name in ("action_token", "link_token", "verify_token", "reset_token")
            }
            body = await api.gql(document, variables({**ids, **guesses, "slug": "guessed-portal"}), token=token)
            assert body["data"][field]["__typename"] == "NotFound", (field, body)
            continue
        if kind == "session":  # a customer's portal session is the only way in
            body = await api.gql(document, variables(ids), token=token)
            assert body["data"][field]["__typename"] == "NotSignedIn", (field, body)
            continue
        body = await api.gql(document, variables(ids), token=token)
        assert not body.get("errors"), (field, body)
        answer = body["data"][field]
        if kind == "denied" or caller == "anonymous":
            assert answer["__typename"] in DENIED, (field, answer)
        assert SECRET not in json.dumps(answer), (field, answer)
    assert await api.data(A_SNAPSHOT, {"a": ids["a"], "cal": ids["cal"]}) == before
    # The manager of A's tokens were not revoked by the outsider.
    assert (await api.data("{ locations { __typename } }", token=ids["manager_a_token"]))["locations"][
        "__typename"
    ] == "LocationConnection"


async def test_the_same_calls_work_for_the_owner_and_the_manager_of_a(api, smtp):
    ids = await _setup(api, smtp)
    for field, (document, variables, kind) in CALLS.items():
        token = (
            "owner" if field in {"createLocation", "createStaffUser", "revokeStaffToken"} else ids["manager_a_token"]
        )
        if kind in ("public", "token", "slug", "session"):
            token = None  # the customer's own: a link, the portal's address, the session cookie set by portalLogin
        answer = (await api.data(document, variables(ids), token=token))[field]
        assert answer["__typename"] not in DENIED | {"ValidationError"}, (field, answer)
        if kind == "list":
            assert SECRET in json.dumps(answer), (field, answer)


async def test_nested_relations_hide_locations_out_of_scope(api, smtp):
    ids = await _setup(api, smtp)
    await api.data(
        "mutation($b: ID!, $a: ID!) { updateLocation(id: $b, input: {headquartersId: $a}) { __typename } }",
        {"a": ids["a"], "b": ids["b"]},
    )
    query = "query($b: ID!) { location(id: $b) { ... on Location { headquarters { name branches { name } } } } }"
    as_b = (await api.data(query, {"b": ids["b"]}, token=ids["manager_b_token"]))["location"]
    assert as_b == {"headquarters": None}
    as_owner = (await api.data(query, {"b": ids["b"]}))["location"]
    assert as_owner["headquarters"]["name"] == f"{SECRET} clinic"
