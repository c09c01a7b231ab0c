"""Client portal against abuse: nobody pre-registers someone else's account, sign-in links make
short sessions bound to the browser that asked, stale emails stop signing in, and odd input
(other scripts' digits, dates at the ends of the calendar) gets a clear answer, never a 500."""

from __future__ import annotations

from helpers import local
from portal_helpers import (
    CSRF_RE,
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

from plugins.client_portal.models import PortalSession, PortalToken

ATTACKER_PASSWORD = "attacker's password"
ME = "{ portalMe { __typename ... on PortalCustomer { firstName } } }"


async def test_a_registration_never_opens_a_customer_added_before_it_is_confirmed(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    attacker = Customer(api)
    answer = await attacker.gql(
        REGISTER,
        {
            "s": slug,
            "i": {"firstName": "Vic", "lastName": "Tim", "email": "victim@example.com", "password": ATTACKER_PASSWORD},
        },
    )
    assert answer["portalRegister"]["__typename"] == "PortalMessage"
    await smtp.wait_for(1)
    token = link_in(smtp.received[0]).rsplit("/", 1)[1]
    # Staff add the victim as a customer (a phone booking) before the emailed link is followed.
    victim = await api.data(
        'mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "Victoria", lastName: "Real", email: "victim@example.com"}) { ... on Customer { id } } }',
        {"l": clinic.location},
    )
    await api.data(
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
        {
            "c": clinic.calendar,
            "s": clinic.service,
            "u": victim["createCustomer"]["id"],
            "t": local(clinic.tz, 3, 10).isoformat(),
        },
    )
    confirmed = (await Customer(api).gql(VERIFY, {"t": token}))["portalVerifyEmail"]
    assert confirmed["__typename"] == "PortalMessage" and "choose your password" in confirmed["message"]
    refused = (await attacker.gql(LOGIN, {"s": slug, "e": "victim@example.com", "p": ATTACKER_PASSWORD}))["portalLogin"]
    assert refused["__typename"] == "InvalidCredentials"
    await smtp.wait_for(3)  # the staff booking's email, then the link to choose a password
    assert any("/password/" in mail.message.get_body(("plain",)).get_content() for mail in smtp.received[1:])
    await attacker.close()


async def test_a_second_registration_of_a_waiting_email_gets_a_password_link_and_no_password(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    first, first_link = await registered(api, smtp, slug, "someone@example.com")
    attacker = Customer(api)
    await attacker.gql(
        REGISTER,
        {
            "s": slug,
            "i": {
                "firstName": "Evil",
                "lastName": "Twin",
                "email": "someone@example.com",
                "password": ATTACKER_PASSWORD,
            },
        },
    )
    await smtp.wait_for(2)
    second = link_in(smtp.received[1])
    assert "/password/" in second and "Evil" not in smtp.received[1].message.get_body(("plain",)).get_content()
    assert (await first.gql(VERIFY, {"t": first_link.rsplit("/", 1)[1]}))["portalVerifyEmail"][
        "__typename"
    ] == "NotFound"  # replaced
    for password in (PASSWORD, ATTACKER_PASSWORD):
        assert (await attacker.gql(LOGIN, {"s": slug, "e": "someone@example.com", "p": password}))["portalLogin"][
            "__typename"
        ] == "InvalidCredentials"
    await first.close()
    await attacker.close()


async def test_known_and_unknown_emails_get_the_same_answers_to_a_weak_password(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    visitor = Customer(api)
    for email in ("ada@example.com", "stranger@example.com"):
        answer = (
            await visitor.gql(
                REGISTER, {"s": slug, "i": {"firstName": "A", "lastName": "B", "email": email, "password": "x"}}
            )
        )["portalRegister"]
        assert answer == {"__typename": "ValidationError", "field": "password", "message": answer["message"]}, email
    assert not await PortalToken.exists()
    await visitor.close()


async def test_a_sign_in_link_makes_a_session_no_longer_than_the_link_and_only_for_the_browser_that_asked(
    api_factory, smtp
):
    api = await api_factory(smtp_url=smtp.url())
    clinic, _ = await portal_clinic(api)
    ada = Customer(api)
    appointment, path = await sign_in_link_from_action_page(api, clinic, ada, days_ahead=2)
    # Another browser's form token does not sign Ada's browser in (no login CSRF through the link).
    other = Customer(api)
    foreign_token = CSRF_RE.search((await other.page(path)).text).group(1)
    assert (await ada.client.post(path, data={"csrf_token": foreign_token})).status_code == 403
    assert not await PortalSession.exists()
    assert (await ada.post_form(path, {})).status_code == 303
    session = await PortalSession.get()
    link_expires = appointment.ends_at.timestamp() + 24 * 3600
    assert session.expires_at.timestamp() <= link_expires + 1
    assert (await ada.gql(ME))["portalMe"] == {"__typename": "PortalCustomer", "firstName": "Ada"}
    await ada.close()
    await other.close()


async def test_an_old_email_stops_signing_in_when_staff_change_it(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    customer = (await grace.gql("{ portalMe { ... on PortalCustomer { email } } }"))["portalMe"]
    assert customer == {"email": "grace@example.com"}
    from core.models import Customer as CustomerRow  # noqa: PLC0415 - the row staff edit

    row = await CustomerRow.get(email_key="grace@example.com")
    changed = await api.data(
        'mutation($c: ID!) { updateCustomer(id: $c, input: {email: "grace@new.example"}) { __typename } }',
        {"c": str(row.id)},
    )
    assert changed["updateCustomer"]["__typename"] == "Customer"
    assert (await grace.gql(LOGIN, {"s": slug, "e": "grace@example.com", "p": PASSWORD}))["portalLogin"][
        "__typename"
    ] == "InvalidCredentials"
    sent = len(smtp.received)
    await grace.gql(
        'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "grace@example.com") { __typename } }',
        {"s": slug},
    )
    await grace.gql(
        'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "grace@new.example") { __typename } }',
        {"s": slug},
    )
    await smtp.wait_for(sent + 1)
    assert [mail.recipients for mail in smtp.received[sent:]] == [["grace@new.example"]]
    await grace.close()


async def test_odd_numbers_and_far_dates_get_clear_answers(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    for path in (
        f"/portal/{slug}?booked=%C2%B2",
        f"/portal/{slug}/cancel/%C2%B2",
        f"/portal/{slug}/book?service=%C2%B2",
        f"/portal/{slug}/book?service={clinic.service}&from=9999-12-25",
        f"/portal/{slug}/book?service={clinic.service}&from=0001-01-01",
        f"/portal/{slug}/book?service={clinic.service}&start=0001-01-01T00:00%2B01:00",
        f"/portal/{slug}/book?service={clinic.service}&start=9999-12-31T23:59-01:00",
    ):
        response = await grace.page(path)
        assert response.status_code < 500, (path, response.status_code)
    posted = await grace.post_form(
        f"/portal/{slug}/book",
        {"service": clinic.service, "start": "0001-01-01T00:00:00+01:00"},
        from_page=f"/portal/{slug}/book?service={clinic.service}",
    )
    assert posted.status_code == 400 and "not one of the times offered" in posted.text
    cancel = await grace.gql('mutation { portalCancel(appointmentId: "²") { __typename } }')
    assert cancel["portalCancel"]["__typename"] == "NotFound"
    far = await grace.gql(
        'mutation($v: ID!) { portalBook(input: {serviceId: $v, start: "0001-01-01T00:00:00+01:00"}) { __typename ... on ValidationError { field } } }',
        {"v": clinic.service},
    )
    assert far["portalBook"] == {"__typename": "ValidationError", "field": "start"}
    slots = await grace.gql(
        'query($s: String!, $v: ID!) { portalAvailableSlots(slug: $s, serviceId: $v, from: "9999-12-30T00:00:00-01:00", to: "9999-12-31T00:00:00-01:00") { __typename } }',
        {"s": slug, "v": clinic.service},
    )
    assert slots["portalAvailableSlots"]["__typename"] == "ValidationError"
    setting = await api.data(
        'mutation($l: ID!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: {notifyOnNewTemplate: "²"}) { __typename } }',
        {"l": clinic.location},
    )
    assert setting["updatePluginSettings"]["__typename"] == "ValidationError"
    await grace.close()
