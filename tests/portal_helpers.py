"""Building blocks for client portal tests: a clinic with the portal on, customers' own HTTP
clients (each with its cookie jar), and the links in the emails they receive."""

from __future__ import annotations

import re

import httpx
from helpers import local, make_clinic

from core.models import Appointment
from plugins.action_links.links import token_for, url_of

LINK_RE = re.compile(r"https?://\S+/portal/[a-z0-9-]+/(?:verify|password)/[A-Za-z0-9_-]+")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"

PORTAL_URL = "query($l: ID!) { portalUrl(locationId: $l) { __typename ... on PortalUrl { url slug } ... on PluginDisabled { plugin } } }"
REGISTER = """mutation($s: String!, $i: PortalRegisterInput!) { portalRegister(slug: $s, input: $i) { __typename
  ... on PortalMessage { message } ... on ValidationError { field message } ... on RuleViolation { rule message } ... on NotFound { message }
  ... on RateLimited { retryAfterSeconds } } }"""
VERIFY = """mutation($t: String!) { portalVerifyEmail(token: $t) { __typename ... on PortalMessage { message }
  ... on LinkUnavailable { status message } ... on NotFound { message } ... on RateLimited { retryAfterSeconds } } }"""
LOGIN = """mutation($s: String!, $e: String!, $p: String!) { portalLogin(slug: $s, email: $e, password: $p) { __typename
  ... on PortalSignedIn { customer { firstName lastName email hasPassword } } ... on InvalidCredentials { message }
  ... on EmailNotVerified { message } ... on RateLimited { retryAfterSeconds } ... on NotFound { message } } }"""
APPOINTMENTS = """query($u: Boolean! = true) { portalAppointments(upcoming: $u) { __typename
  ... on PortalAppointmentList { appointments { id status startsAt serviceName calendarName price canCancel cancelRefusal links { kind url } } }
  ... on NotSignedIn { message } } }"""
BOOK = """mutation($i: PortalBookInput!) { portalBook(input: $i) { __typename
  ... on PortalAppointment { id status startsAt calendarName } ... on ValidationError { field message } ... on RuleViolation { rule message }
  ... on SlotUnavailable { message } ... on NotSignedIn { message } ... on NotFound { message } } }"""
CANCEL = """mutation($a: ID!, $r: String, $n: String! = "") { portalCancel(appointmentId: $a, reason: $r, note: $n) { __typename
  ... on PortalAppointment { id status } ... on RuleViolation { rule message } ... on ValidationError { field message }
  ... on NotFound { message } ... on NotSignedIn { message } ... on InvalidTransition { message } } }"""


class Customer:
    """One customer's browser-like client: its own cookies, GraphQL and pages."""

    def __init__(self, api) -> None:
        self.api = api
        self.client = httpx.AsyncClient(base_url=api.url, timeout=30)

    async def gql(self, query: str, variables: dict | None = None) -> dict:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}})
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]

    async def page(self, path: str):
        return await self.client.get(path)

    async def post_form(self, path: str, data: dict, *, from_page: str | None = None):
        """POST a form with the CSRF token of the page it is on (GET first)."""
        shown = await self.client.get(from_page or path)
        token = CSRF_RE.search(shown.text)
        assert token, shown.text
        return await self.client.post(path, data={**data, "csrf_token": token.group(1)})

    async def close(self) -> None:
        await self.client.aclose()


async def portal_clinic(api, settings: dict | None = None, **clinic_options):
    """A clinic with the client portal enabled (and settings changed); (clinic, slug)."""
    clinic = await make_clinic(api, **clinic_options)
    enabled = await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    assert enabled["setPluginEnabled"]["__typename"] == "PluginStateList", enabled
    if settings:
        changed = await api.data(
            'mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) { __typename ... on ValidationError { field message } } }',
            {"l": clinic.location, "s": settings},
        )
        assert changed["updatePluginSettings"]["__typename"] == "PluginState", changed
    url = (await api.data(PORTAL_URL, {"l": clinic.location}))["portalUrl"]
    return clinic, url["slug"]


async def sign_in_link_from_action_page(api, clinic, customer: Customer, days_ahead: int = 4):
    """Action links on too: staff book for the clinic's customer (Ada), whose browser opens the
    action-link page; (the appointment, the path of its "See all my appointments" link)."""
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    booked = await api.data(
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { ... on Appointment { id } } }",
        {
            "c": clinic.calendar,
            "s": clinic.service,
            "u": clinic.customer,
            "t": local(clinic.tz, days_ahead, 10).isoformat(),
        },
    )
    appointment = await Appointment.get(id=int(booked["bookAppointment"]["id"]))
    action_page = await customer.page(
        url_of(api.settings, await token_for(api.settings, appointment)).replace("http://testserver", "")
    )
    found = re.search(
        r'href="http://testserver(/portal/[a-z0-9-]+/from-link/[^"]+)"[^>]*>\s*See all my appointments',
        action_page.text,
    )
    assert found, action_page.text
    return appointment, found.group(1)


def link_in(mail) -> str:
    """The single-use portal link in an email."""
    found = LINK_RE.search(mail.message.get_body(("plain",)).get_content())
    assert found, mail.message.get_body(("plain",)).get_content()
    return found.group(0)


async def registered(
    api, smtp, slug: str, email: str, first_name: str = "Grace", last_name: str = "Hopper"
) -> tuple[Customer, str]:
    """A new client who registered (not confirmed yet): their client and the emailed link."""
    customer = Customer(api)
    seen = len(smtp.received)
    registered = await customer.gql(
        REGISTER,
        {
            "s": slug,
            "i": {
                "firstName": first_name,
                "lastName": last_name,
                "email": email,
                "password": PASSWORD,
                "mobilePhone": "+44 7700 900555",
            },
        },
    )
    assert registered["portalRegister"]["__typename"] == "PortalMessage", registered
    await smtp.wait_for(seen + 1)
    return customer, link_in(smtp.received[seen])


async def signed_up(api, smtp, slug: str, email: str, first_name: str = "Grace", last_name: str = "Hopper") -> Customer:
    """A new client registered, verified from the email, and signed in."""
    customer, link = await registered(api, smtp, slug, email, first_name, last_name)
    assert (await customer.gql(VERIFY, {"t": link.rsplit("/", 1)[1]}))["portalVerifyEmail"][
        "__typename"
    ] == "PortalMessage"
    signed = (await customer.gql(LOGIN, {"s": slug, "e": email, "p": PASSWORD}))["portalLogin"]
    assert signed["__typename"] == "PortalSignedIn", signed
    return customer
