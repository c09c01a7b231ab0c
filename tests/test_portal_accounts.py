"""Client portal accounts: bad input changes nothing, the login limit engages (aliases count),
expired and reused links, known customers set a password by email, signing in from an action
link (a session that cannot change the password or the profile), and the current password
guarding password and profile changes."""

from __future__ import annotations

import datetime as dt

from helpers import local, statements
from portal_helpers import (
    LOGIN,
    PASSWORD,
    REGISTER,
    VERIFY,
    Customer,
    link_in,
    portal_clinic,
    registered,
    sign_in_link_from_action_page,
    signed_up,
)

from core.models import Customer as CustomerRow, OutboxMessage
from plugins.client_portal.models import PortalAccount, PortalSession, PortalToken
from plugins.client_portal.signin_links import SALT
from web.signing import sign, unsign

RESET = """mutation($t: String!, $p: String!) { portalResetPassword(token: $t, password: $p) { __typename
  ... on PortalMessage { message } ... on ValidationError { field message } ... on LinkUnavailable { status message } ... on NotFound { message } } }"""
ASK = "mutation($s: String!, $e: String!) { portalRequestPasswordReset(slug: $s, email: $e) { __typename ... on PortalMessage { message } ... on ValidationError { field } } }"
ME = "{ portalMe { __typename ... on PortalCustomer { firstName mobilePhone hasPassword } } }"


async def _counts():
    return (await PortalAccount.all().count(), await PortalToken.all().count(), await CustomerRow.all().count())


async def test_bad_registrations_change_nothing(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    visitor = Customer(api)
    before = await _counts()
    base = {"firstName": "Alan", "lastName": "Turing", "email": "alan@example.com", "password": PASSWORD}
    for changes, field in (
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "aaaaaaaaaaaa"}, "password"),
        ({"firstName": "  "}, "firstName"),
        ({"mobilePhone": "call me"}, "mobilePhone"),
    ):
        answer = (await visitor.gql(REGISTER, {"s": slug, "i": {**base, **changes}}))["portalRegister"]
        assert answer["__typename"] == "ValidationError" and answer["field"] == field, (changes, answer)
    unknown_slug = (await visitor.gql(REGISTER, {"s": "nowhere", "i": base}))["portalRegister"]
    assert unknown_slug["__typename"] == "NotFound"
    assert await _counts() == before and not smtp.received
    malformed = (await visitor.gql(ASK, {"s": slug, "e": "nope"}))["portalRequestPasswordReset"]
    assert malformed == {"__typename": "ValidationError", "field": "email"}
    unknown = (await visitor.gql(ASK, {"s": slug, "e": "stranger@example.com"}))["portalRequestPasswordReset"]
    assert unknown["__typename"] == "PortalMessage" and await _counts() == before
    await visitor.close()


async def test_wrong_passwords_until_the_limit_engages_aliases_included(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    attacker = Customer(api)
    aliases = " ".join(
        f'a{n}: portalLogin(slug: "{slug}", email: "grace@example.com", password: "guess-{n}-xxxxxx") {{ __typename }}'
        for n in range(12)
    )
    answers = (await attacker.gql(f"mutation {{ {aliases} }}")).values()
    kinds = [a["__typename"] for a in answers]
    assert (
        kinds.count("InvalidCredentials") == api.settings.login_limit_per_account.limit - 1
    )  # one attempt was Grace's own sign-in
    assert kinds[-1] == "RateLimited" and "PortalSignedIn" not in kinds
    right = (await attacker.gql(LOGIN, {"s": slug, "e": "grace@example.com", "p": PASSWORD}))["portalLogin"]
    assert right["__typename"] == "RateLimited"  # even the right password waits now
    assert await PortalSession.filter(account__email_key="grace@example.com").count() == 1  # only Grace's own
    await grace.close()
    await attacker.close()


async def test_expired_and_reused_links_are_refused_and_change_nothing(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    visitor, link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    token = link.rsplit("/", 1)[1]
    await PortalToken.all().update(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    expired = (await visitor.gql(VERIFY, {"t": token}))["portalVerifyEmail"]
    assert expired["__typename"] == "LinkUnavailable" and expired["status"] == "EXPIRED"
    assert (await PortalAccount.get(email_key="alan@example.com")).verified_at is None
    page = await visitor.page(f"/portal/{slug}/verify/{token}")
    assert page.status_code == 410 and "This link has expired." in page.text
    # Signing in with the right password sends a fresh link; the old one stays expired.
    assert (await visitor.gql(LOGIN, {"s": slug, "e": "alan@example.com", "p": PASSWORD}))["portalLogin"][
        "__typename"
    ] == "EmailNotVerified"
    await smtp.wait_for(2)
    fresh = link_in(smtp.received[1]).rsplit("/", 1)[1]
    assert (
        fresh != token
        and (await visitor.gql(VERIFY, {"t": fresh}))["portalVerifyEmail"]["__typename"] == "PortalMessage"
    )
    reused = (await visitor.gql(VERIFY, {"t": fresh}))["portalVerifyEmail"]
    assert reused["__typename"] == "LinkUnavailable" and reused["status"] == "USED"
    assert (await visitor.gql(VERIFY, {"t": "x" * 43}))["portalVerifyEmail"]["__typename"] == "NotFound"
    await visitor.close()


async def test_a_known_customer_sets_a_password_by_email_and_sees_their_history(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    await api.data(
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
        {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": local(clinic.tz, 4, 10).isoformat()},
    )
    await smtp.wait_for(1)
    ada = Customer(api)
    assert (await ada.gql(ASK, {"s": slug, "e": "ada@example.com"}))["portalRequestPasswordReset"][
        "__typename"
    ] == "PortalMessage"
    await smtp.wait_for(2)
    token = link_in(smtp.received[1]).rsplit("/", 1)[1]
    weak = (await ada.gql(RESET, {"t": token, "p": "short"}))["portalResetPassword"]
    assert weak["__typename"] == "ValidationError" and await PortalToken.filter(used_at__isnull=True).count() == 1
    assert (await ada.gql(RESET, {"t": token, "p": PASSWORD}))["portalResetPassword"]["__typename"] == "PortalMessage"
    assert (await ada.gql(RESET, {"t": token, "p": "another password"}))["portalResetPassword"]["status"] == "USED"
    signed = (await ada.gql(LOGIN, {"s": slug, "e": "ada@example.com", "p": PASSWORD}))["portalLogin"]
    assert signed["customer"] == {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "hasPassword": True,
    }
    listed = await ada.gql(
        "{ portalAppointments { ... on PortalAppointmentList { appointments { serviceName startsAt } } } }"
    )
    assert listed["portalAppointments"]["appointments"] == [
        {"serviceName": "Checkup", "startsAt": local(clinic.tz, 4, 10).isoformat()}
    ]
    await ada.close()


async def test_see_all_my_appointments_from_an_action_link(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, _ = await portal_clinic(api)
    ada = Customer(api)
    appointment, path = await sign_in_link_from_action_page(api, clinic, ada)
    for _ in range(2):  # mail scanners: GET and HEAD sign nobody in
        assert (await ada.client.get(path)).status_code == 200
        await ada.client.head(path)
    assert await PortalSession.all().count() == 0
    assert (await ada.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"
    forged = await ada.client.post(path, data={"csrf_token": "1.forged"})
    assert forged.status_code == 403 and await PortalSession.all().count() == 0
    signed = await ada.post_form(path, {})
    assert signed.status_code == 303
    assert (await ada.gql(ME))["portalMe"] == {
        "__typename": "PortalCustomer",
        "firstName": "Ada",
        "mobilePhone": "+44 7700 900123",
        "hasPassword": False,
    }
    listed = await ada.gql(
        "{ portalAppointments { ... on PortalAppointmentList { appointments { id links { kind } } } } }"
    )
    assert listed["portalAppointments"]["appointments"] == [
        {"id": str(appointment.id), "links": [{"kind": "action_link"}]}
    ]
    # The sign-in link expires with the action link it came from, and then only says so.
    appointment_id, expires, origin = unsign(api.settings.secret_keys, SALT, path.rsplit("/", 1)[1])
    assert (appointment_id, expires) == (
        appointment.id,
        int((appointment.ends_at + dt.timedelta(hours=24)).timestamp()),
    )
    expired = (
        path.rsplit("/", 1)[0]
        + "/"
        + sign(api.settings.secret_keys, SALT, [appointment.id, int(dt.datetime.now().timestamp()) - 1, origin])
    )
    late = Customer(api)
    assert (await late.page(expired)).status_code == 410
    assert (await late.client.post(expired, data={"csrf_token": "x"})).status_code == 410
    assert (await late.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"
    # It also dies with the action link it was shown on (the portal asks through link_is_live):
    # once staff replace that link, the sign-in link is as unknown as the old action link.
    assert (await late.page(path)).status_code == 200
    revoked = await api.data(
        "mutation($a: ID!) { revokeActionLink(appointmentId: $a) { __typename } }", {"a": str(appointment.id)}
    )
    assert revoked["revokeActionLink"]["__typename"] == "ActionLinkRevoked"
    assert (await late.page(path)).status_code == 404
    await late.close()
    await ada.close()


async def test_password_and_profile_changes_need_the_current_password(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    other_device = Customer(api)
    assert (await other_device.gql(LOGIN, {"s": slug, "e": "grace@example.com", "p": PASSWORD}))["portalLogin"][
        "__typename"
    ] == "PortalSignedIn"
    change = "mutation($c: String!, $n: String!) { portalChangePassword(currentPassword: $c, newPassword: $n) { __typename ... on ValidationError { field } } }"
    assert (await grace.gql(change, {"c": "wrong password", "n": "a new password 1"}))["portalChangePassword"] == {
        "__typename": "ValidationError",
        "field": "currentPassword",
    }
    assert (await grace.gql(change, {"c": PASSWORD, "n": "short"}))["portalChangePassword"] == {
        "__typename": "ValidationError",
        "field": "newPassword",
    }
    profile = 'mutation($c: String!) { portalUpdateProfile(input: {currentPassword: $c, mobilePhone: "+44 7700 900777"}) { __typename ... on ValidationError { field } ... on PortalCustomer { mobilePhone } } }'
    assert (await grace.gql(profile, {"c": "wrong password"}))["portalUpdateProfile"] == {
        "__typename": "ValidationError",
        "field": "currentPassword",
    }
    assert (await grace.gql(profile, {"c": PASSWORD}))["portalUpdateProfile"] == {
        "__typename": "PortalCustomer",
        "mobilePhone": "+44 7700 900777",
    }
    assert (await grace.gql(change, {"c": PASSWORD, "n": "a new password 1"}))["portalChangePassword"][
        "__typename"
    ] == "PortalMessage"
    assert (await grace.gql(ME))["portalMe"]["__typename"] == "PortalCustomer"
    assert (await other_device.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"  # other sessions ended
    assert (await other_device.gql(LOGIN, {"s": slug, "e": "grace@example.com", "p": "a new password 1"}))[
        "portalLogin"
    ]["__typename"] == "PortalSignedIn"
    logout = await grace.gql("mutation { portalLogout { __typename } }")
    assert (
        logout["portalLogout"]["__typename"] == "PortalMessage"
        and (await grace.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"
    )
    await grace.close()
    await other_device.close()


async def test_a_password_link_for_a_stranger_takes_the_same_lookups_and_work_as_for_a_client(api_factory, smtp):
    # A client's email took measurably longer (85 vs 49 ms): the answer told who is a client.
    api = await api_factory(smtp_url=smtp.url(), run_worker=False)
    clinic, slug = await portal_clinic(api)
    client_email = (await CustomerRow.get(id=int(clinic.customer))).email
    visitor = Customer(api)
    assert (await visitor.gql(ASK, {"s": slug, "e": client_email}))["portalRequestPasswordReset"][
        "__typename"
    ] == "PortalMessage"
    sent = {}
    for email in (client_email, "stranger@example.com"):
        with statements() as sent[email]:
            assert (await visitor.gql(ASK, {"s": slug, "e": email}))["portalRequestPasswordReset"][
                "__typename"
            ] == "PortalMessage"
    client, stranger = sent[client_email], sent["stranger@example.com"]
    # The same statements, but for the account: the client's is found (others of hers removed), the
    # stranger's stand-in is made; then the stranger's work is rolled back.
    writes = {email: [" ".join(s.split()[:3]) for s in sent[email] if not s.startswith("SELECT")] for email in sent}
    assert writes == {
        client_email: [
            'DELETE FROM "portal_account"',
            'DELETE FROM "portal_token"',
            'INSERT INTO "portal_token"',
            'INSERT INTO "outbox_message"',
        ],
        "stranger@example.com": [
            'INSERT INTO "portal_account"',
            'DELETE FROM "portal_token"',
            'INSERT INTO "portal_token"',
            'INSERT INTO "outbox_message"',
        ],
    }
    account_step = ('DELETE FROM "portal_account"', 'INSERT INTO "portal_account"')
    assert [s for s in client if not s.startswith(account_step)] == [
        s for s in stranger if not s.startswith(account_step)
    ]
    assert any('FROM "email_template"' in s for s in stranger)  # its email composed too
    assert await OutboxMessage.filter(to_address=client_email).count() == 2
    assert not await OutboxMessage.filter(to_address="stranger@example.com").exists()
    assert await PortalAccount.all().count() == 1 and await PortalToken.all().count() == 1  # the client's
    await visitor.close()


async def test_a_session_from_an_action_link_acts_on_appointments_but_changes_no_password_or_profile(api_factory, smtp):
    """ "See all my appointments" signs the customer in without their password: enough to see,
    book and cancel, never to change the password or the profile (staff who once held a link must
    not be able to take the account over). Signing in with the password lifts that."""
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    ada = Customer(api)
    assert (await ada.gql(ASK, {"s": slug, "e": "ada@example.com"}))["portalRequestPasswordReset"][
        "__typename"
    ] == "PortalMessage"
    await smtp.wait_for(1)
    assert (await ada.gql(RESET, {"t": link_in(smtp.received[0]).rsplit("/", 1)[1], "p": PASSWORD}))[
        "portalResetPassword"
    ]["__typename"] == "PortalMessage"
    appointment, path = await sign_in_link_from_action_page(api, clinic, ada)
    assert (await ada.post_form(path, {})).status_code == 303
    me = "{ portalMe { __typename ... on PortalCustomer { fromLink hasPassword } } }"
    assert (await ada.gql(me))["portalMe"] == {"__typename": "PortalCustomer", "fromLink": True, "hasPassword": True}
    refused = "PasswordSignInRequired"
    change = (
        'mutation { portalChangePassword(currentPassword: "%s", newPassword: "another password 7") { __typename ... on PasswordSignInRequired { message } } }'
        % PASSWORD
    )
    profile = (
        'mutation { portalUpdateProfile(input: {currentPassword: "%s", firstName: "Eve"}) { __typename ... on PasswordSignInRequired { message } } }'
        % PASSWORD
    )
    answer = (await ada.gql(change))["portalChangePassword"]
    assert answer["__typename"] == refused and "sign in with your email and password" in answer["message"]
    assert (await ada.gql(profile))["portalUpdateProfile"]["__typename"] == refused
    page = await ada.page(f"/portal/{slug}/profile")
    assert (
        page.status_code == 200
        and "sign in with your email and password" in page.text
        and 'name="new_password"' not in page.text
    )
    posted = await ada.post_form(
        f"/portal/{slug}/profile",
        {
            "change": "password",
            "current_password": PASSWORD,
            "new_password": "another password 7",
            "new_password_again": "another password 7",
        },
    )
    assert posted.status_code == 422 and "sign in with your email and password" in posted.text
    posted = await ada.post_form(
        f"/portal/{slug}/profile", {"change": "details", "current_password": PASSWORD, "first_name": "Eve"}
    )
    assert posted.status_code == 422
    customer = await CustomerRow.get(id=int(clinic.customer))
    signed = (await ada.gql(LOGIN, {"s": slug, "e": "ada@example.com", "p": PASSWORD}))["portalLogin"]
    assert customer.first_name == "Ada" and signed["__typename"] == "PortalSignedIn"  # the password unchanged...
    # ... and signing in with it, in this browser, lifts the limits.
    assert (await ada.gql(me))["portalMe"] == {"__typename": "PortalCustomer", "fromLink": False, "hasPassword": True}
    assert (await ada.gql(profile))["portalUpdateProfile"]["__typename"] == "PortalCustomer"
    # Acting on appointments is what a link session is for.
    linked = Customer(api)
    assert (await linked.post_form(path, {})).status_code == 303
    listed = await linked.gql("{ portalAppointments { ... on PortalAppointmentList { appointments { id } } } }")
    assert listed["portalAppointments"]["appointments"] == [{"id": str(appointment.id)}]
    cancel = "mutation($a: ID!) { portalCancel(appointmentId: $a) { __typename ... on PortalAppointment { status } } }"
    assert (await linked.gql(cancel, {"a": str(appointment.id)}))["portalCancel"] == {
        "__typename": "PortalAppointment",
        "status": "CANCELLED",
    }
    await linked.close()
    await ada.close()
