"""Rotating AGENDUM_SECRET_KEY: with the old key in AGENDUM_SECRET_KEY_FALLBACKS, what it signed
(emailed links, session cookies, forms' CSRF tokens) keeps working and everything new uses the new
key; once the old key is dropped, what only it signed stops working and links shown again get a
token of the new key."""

from __future__ import annotations

import httpx
from helpers import book, local
from portal_helpers import PASSWORD, PORTAL_URL, signed_up
from test_action_links import csrf, enable, link_of
from test_one_time_links import LIST, setup as one_time_setup

from core.models import Appointment
from core.security.tokens import derive_token
from plugins.action_links.links import PURPOSE as ACTION
from plugins.one_time_links.links import PURPOSE as ONE_TIME
from web.sessions import COOKIE_NAME

OLD_KEY = "0dRk3v5Qd2R2nqf4iVY_1zJxq0XyWn9ZtB7cLmP8sKjH4eGuA6oT3wYbN5vF1aDr"
NEW_KEY = "pQ7xV2mL9kR4tW8zN1cB6yH3jF5gD0sA_eUiOoTqYrXwEvCbMnZlKaJhGfSdPuIy"
ME = "{ portalMe { __typename ... on PortalCustomer { email } } }"


async def portal_me(api, cookie: str) -> str:
    """Who the portal session cookie signs in, as the server at `api` reads it."""
    async with httpx.AsyncClient(base_url=api.url, cookies={COOKIE_NAME: cookie}) as client:
        answer = (await client.post("/graphql", json={"query": ME})).json()["data"]["portalMe"]
    return answer.get("email") or answer["__typename"]


async def test_old_key_as_fallback_keeps_links_cookies_and_forms_working_and_new_tokens_use_the_new_key(
    api_factory, smtp
):
    # App A, key K1: a booking's email carries its action link; staff make a one-time link; a client signs in.
    a = await api_factory(secret_key=OLD_KEY, smtp_url=smtp.url())
    clinic, one_time, one_time_token = await one_time_setup(a)
    await enable(a, clinic)
    await a.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    slug = (await a.data(PORTAL_URL, {"l": clinic.location}))["portalUrl"]["slug"]
    first = await book(a, clinic, local(clinic.tz, 5, 10))
    await smtp.wait_for(1)
    old_token = await link_of(a, first["id"])
    assert old_token in smtp.received[0].message.get_body(("plain",)).get_content()
    assert old_token == derive_token(OLD_KEY, ACTION, int(first["id"]))
    old_form = csrf((await a.client.get(f"/action/{old_token}")).text)
    grace = await signed_up(a, smtp, slug, "grace@example.com")
    old_cookie = grace.client.cookies[COOKIE_NAME]
    await grace.close()

    # App B, key K2 with K1 as a fallback: everything A gave out still works.
    b = await api_factory(secret_key=NEW_KEY, secret_key_fallbacks=(OLD_KEY,), smtp_url=smtp.url())
    assert (await b.client.get(f"/action/{old_token}")).status_code == 200
    confirmed = await b.client.post(f"/action/{old_token}/confirm", data={"csrf_token": old_form})
    assert confirmed.status_code == 303 and (await Appointment.get(id=int(first["id"]))).status.value == "CONFIRMED"
    assert (await link_of(b, first["id"])) == old_token  # the confirmation email shows the link the customer has
    assert (await b.client.get(f"/book/{one_time_token}")).status_code == 200
    assert await portal_me(b, old_cookie) == "grace@example.com"
    # ... and everything new is made with K2.
    second = await book(b, clinic, local(clinic.tz, 6, 10))
    new_token = await link_of(b, second["id"])
    assert new_token == derive_token(NEW_KEY, ACTION, int(second["id"]))
    new_form = csrf((await b.client.get(f"/action/{new_token}")).text)
    created = await b.data(
        "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { id url } } }",
        {"c": clinic.calendar},
    )
    new_one_time = created["createOneTimeLink"]["url"].rsplit("/", 1)[1]
    assert new_one_time == derive_token(NEW_KEY, ONE_TIME, int(created["createOneTimeLink"]["id"]))
    grace_again = await signed_up_again(b, slug)
    new_cookie = grace_again.cookies[COOKIE_NAME]
    await grace_again.aclose()

    # App C, key K2 alone: what only K1 signed is refused; what B made works; links shown again get K2 tokens.
    c = await api_factory(secret_key=NEW_KEY, smtp_url=smtp.url())
    assert (await c.client.get(f"/action/{old_token}")).status_code == 404
    view = await c.gql("query($t: String!) { actionLink(token: $t) { __typename } }", {"t": old_token}, token=None)
    assert view["data"]["actionLink"]["__typename"] == "NotFound"
    assert (await c.client.get(f"/book/{one_time_token}")).status_code == 404
    assert await portal_me(c, old_cookie) == "NotSignedIn"
    refused = await c.client.post(f"/action/{new_token}/cancel", data={"csrf_token": old_form, "reason": "Clash"})
    assert refused.status_code in (403, 404)
    assert (await c.client.get(f"/action/{new_token}")).status_code == 200
    assert (await c.client.post(f"/action/{new_token}/confirm", data={"csrf_token": new_form})).status_code == 303
    assert await portal_me(c, new_cookie) == "grace@example.com"
    assert (await c.client.get(f"/book/{new_one_time}")).status_code == 200
    moved = await c.data(
        "mutation($a: ID!, $t: DateTime!) { rescheduleAppointment(id: $a, start: $t) { __typename } }",
        {"a": first["id"], "t": local(clinic.tz, 7, 10).isoformat()},
    )
    assert moved["rescheduleAppointment"]["__typename"] == "Appointment", moved
    shown_again = await link_of(c, first["id"])  # the email saying it moved
    assert shown_again == derive_token(NEW_KEY, ACTION, int(first["id"])) != old_token
    assert (await c.client.get(f"/action/{shown_again}")).status_code == 200
    listed = (await c.data(LIST, {"c": clinic.calendar}))["oneTimeLinks"]["edges"]
    urls = {edge["node"]["id"]: edge["node"]["url"].rsplit("/", 1)[1] for edge in listed}
    assert urls[one_time["id"]] == derive_token(NEW_KEY, ONE_TIME, int(one_time["id"])) != one_time_token
    assert (await c.client.get(f"/book/{urls[one_time['id']]}")).status_code == 200


async def signed_up_again(api, slug: str) -> httpx.AsyncClient:
    """Grace signs in again at the server `api`; her client, holding the new session cookie."""
    client = httpx.AsyncClient(base_url=api.url)
    login = 'mutation($s: String!, $p: String!) { portalLogin(slug: $s, email: "grace@example.com", password: $p) { __typename } }'
    signed = await client.post("/graphql", json={"query": login, "variables": {"s": slug, "p": PASSWORD}})
    assert signed.json()["data"]["portalLogin"]["__typename"] == "PortalSignedIn", signed.text
    return client
