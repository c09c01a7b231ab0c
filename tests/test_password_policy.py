"""The password policy (NIST SP 800-63B): common and easily guessed passwords are refused for
staff and portal accounts alike, with the same answer whether or not the email is known."""

from __future__ import annotations

import pytest
from portal_helpers import PASSWORD, REGISTER, Customer, link_in, portal_clinic, signed_up
from test_portal_accounts import RESET
from test_staff import create_staff

from core.errors import ValidationFailed
from core.models import OutboxMessage, StaffUser
from core.security.passwords import COMMON, GUESSABLE, check_strength
from core.security.strength import COMMON_PASSWORDS
from plugins.client_portal.models import PortalAccount, PortalToken

WEAK = ["password12", "Password123", "qwertyuiop", "1234567890"]
CHANGE = """mutation($c: String!, $n: String!) { portalChangePassword(currentPassword: $c, newPassword: $n) { __typename
  ... on ValidationError { field message } } }"""
ASK = "mutation($s: String!, $e: String!) { portalRequestPasswordReset(slug: $s, email: $e) { __typename } }"


async def test_common_and_guessable_passwords_are_refused_with_a_clear_message():
    assert len(COMMON_PASSWORDS) >= 10_000
    for password in WEAK:
        with pytest.raises(ValidationFailed) as refused:
            await check_strength("password", password)
        assert (refused.value.field, str(refused.value)) == ("password", COMMON)
    for password in ("aaaaaaaaaaaaaaa", "abcdefghijklmno", "lovelace1815!", "ada.lovelace@example.com"):
        with pytest.raises(ValidationFailed, match="easy to guess") as refused:
            await check_strength("newPassword", password, ["ada.lovelace@example.com", "Ada", "Lovelace"])
        assert refused.value.field == "newPassword" and str(refused.value) == GUESSABLE
    for password in (PASSWORD, "owner-password-1", "tangerine viaduct 42"):
        assert await check_strength("password", password, ["ada.lovelace@example.com"]) == password


async def test_staff_accounts_refuse_weak_passwords(api):
    location = await api.data(
        'mutation { createLocation(input: {name: "Clinic", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
    )
    location_id = location["createLocation"]["id"]
    for email in ("new@test.example", "owner@test.example"):  # an unknown email and a known one answer alike
        for password in WEAK:
            refused = await create_staff(api, email, location_ids=[location_id], password=password)
            assert refused == {"__typename": "ValidationError", "field": "password", "message": COMMON}
    assert await StaffUser.all().count() == 1


async def test_portal_registration_refuses_weak_passwords_alike_for_clients_and_strangers(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    visitor = Customer(api)
    answers = []
    for email in ("ada@example.com", "stranger@example.com"):  # Ada is the clinic's client; the other is nobody
        for password in WEAK:
            details = {
                "firstName": "Ada",
                "lastName": "Lovelace",
                "email": email,
                "password": password,
                "mobilePhone": "+44 7700 900555",
            }
            answers.append((await visitor.gql(REGISTER, {"s": slug, "i": details}))["portalRegister"])
    assert answers == [{"__typename": "ValidationError", "field": "password", "message": COMMON}] * 8
    assert await PortalAccount.all().count() == 0 and await OutboxMessage.all().count() == 0
    await visitor.close()


async def test_portal_reset_and_change_refuse_weak_passwords(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com", first_name="Grace", last_name="Hopper")
    for password in WEAK:
        refused = (await grace.gql(CHANGE, {"c": PASSWORD, "n": password}))["portalChangePassword"]
        assert refused == {"__typename": "ValidationError", "field": "newPassword", "message": COMMON}
    refused = (await grace.gql(CHANGE, {"c": PASSWORD, "n": "gracehopper1"}))["portalChangePassword"]
    assert refused == {"__typename": "ValidationError", "field": "newPassword", "message": GUESSABLE}
    seen = len(smtp.received)
    assert (await grace.gql(ASK, {"s": slug, "e": "grace@example.com"}))["portalRequestPasswordReset"][
        "__typename"
    ] == "PortalMessage"
    await smtp.wait_for(seen + 1)
    token = link_in(smtp.received[seen]).rsplit("/", 1)[1]
    for password in WEAK:
        refused = (await grace.gql(RESET, {"t": token, "p": password}))["portalResetPassword"]
        assert refused == {"__typename": "ValidationError", "field": "password", "message": COMMON}
    assert await PortalToken.filter(used_at__isnull=True).count() == 1  # the link still works
    assert (await grace.gql(RESET, {"t": token, "p": "tangerine viaduct 42"}))["portalResetPassword"][
        "__typename"
    ] == "PortalMessage"
    await grace.close()
