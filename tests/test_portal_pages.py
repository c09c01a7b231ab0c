"""Client portal pages over real HTTP: sign in, book and cancel through forms; GET and HEAD of
every emailed or signed link use nothing up; forms without a valid CSRF token change nothing;
a portal that is off, or a slug nobody has, is the same 404."""

from __future__ import annotations

import re

from helpers import local
from portal_helpers import CSRF_RE, PASSWORD, Customer, link_in, portal_clinic, registered, signed_up

from core.models import Appointment, AppointmentStatus
from core.security.tokens import token_hash
from plugins.client_portal.models import PortalAccount, PortalToken

NONCE = re.compile(r'nonce="[^"]+"')


async def _sign_in_by_form(customer: Customer, slug: str, email: str, password: str = PASSWORD):
    return await customer.post_form(
        f"/portal/{slug}/login", {"email": email, "password": password}, from_page=f"/portal/{slug}"
    )


async def test_sign_in_book_and_cancel_through_the_pages(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(
        api,
        {"bookingInstructions": "Arrive 5 minutes early.", "termsAndConditions": "Pay on the day."},
        rules={"cancellationReasons": ["Ill", "Other"], "cancellationPolicy": "Cancel a day ahead."},
    )
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    browser = Customer(api)
    shown = await browser.page(f"/portal/{slug}")
    assert shown.status_code == 200 and "Sign in" in shown.text and shown.headers["cache-control"] == "no-store"
    wrong = await _sign_in_by_form(browser, slug, "grace@example.com", "wrong password!")
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    signed = await _sign_in_by_form(browser, slug, "grace@example.com")
    assert signed.status_code == 303 and signed.headers["location"] == f"/portal/{slug}"
    home = await browser.page(f"/portal/{slug}")
    assert "Hello Grace" in home.text and "You have no upcoming appointments." in home.text
    services = await browser.page(f"/portal/{slug}/book")
    assert "Checkup" in services.text and "Arrive 5 minutes early." in services.text
    slots = await browser.page(
        f"/portal/{slug}/book?service={clinic.service}&calendar={clinic.calendar}&from={local(clinic.tz, 2, 0).date()}"
    )
    assert slots.status_code == 200 and "Choose a time" in slots.text
    start = local(clinic.tz, 2, 10)
    confirm_path = f"/portal/{slug}/book?service={clinic.service}&calendar={clinic.calendar}&start={start.isoformat().replace('+', '%2B')}"
    confirm = await browser.page(confirm_path)
    assert "Pay on the day." in confirm.text and "accept the terms" in confirm.text
    form = {"service": clinic.service, "calendar": clinic.calendar, "start": start.isoformat()}
    refused = await browser.post_form(f"/portal/{slug}/book", form, from_page=confirm_path)
    assert refused.status_code == 422 and "accept the terms" in refused.text
    assert not await Appointment.filter(location_id=int(clinic.location)).exists()
    booked = await browser.post_form(f"/portal/{slug}/book", {**form, "accept_terms": "yes"}, from_page=confirm_path)
    appointment = await Appointment.get(location_id=int(clinic.location))
    assert booked.status_code == 303 and booked.headers["location"] == f"/portal/{slug}?booked={appointment.id}"
    assert "is booked. We have sent you an email." in (await browser.page(booked.headers["location"])).text
    assert appointment.starts_at == start
    home = await browser.page(f"/portal/{slug}")
    assert "Checkup with Dr Who" in home.text and f"/portal/{slug}/cancel/{appointment.id}" in home.text
    cancel_page = await browser.page(f"/portal/{slug}/cancel/{appointment.id}")
    assert "Cancel a day ahead." in cancel_page.text and "<option>Ill</option>" in cancel_page.text
    bad_reason = await browser.post_form(f"/portal/{slug}/cancel/{appointment.id}", {"reason": "Bored"})
    assert bad_reason.status_code == 422 and "Choose one of: Ill, Other." in bad_reason.text
    done = await browser.post_form(f"/portal/{slug}/cancel/{appointment.id}", {"reason": "Ill", "note": "sorry"})
    assert done.status_code == 303 and "is cancelled." in (await browser.page(done.headers["location"])).text
    await appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == (AppointmentStatus.CANCELLED, "Ill")
    logout = await browser.post_form(f"/portal/{slug}/logout", {}, from_page=f"/portal/{slug}")
    assert logout.status_code == 303
    assert "Sign in" in (await browser.page(f"/portal/{slug}")).text
    await grace.close()
    await browser.close()


async def test_get_and_head_of_emailed_links_use_nothing_up_and_forms_need_csrf(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    visitor, link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    path = link.split("testserver", 1)[1]
    for _ in range(3):
        assert (await visitor.client.get(path)).status_code == 200
        assert (await visitor.client.get(path, params={"csrf_token": "x", "confirm": "1"})).status_code == 200
        assert (await visitor.client.head(path)).status_code in (200, 405)
    assert await PortalToken.filter(used_at__isnull=True).count() == 1
    assert (await PortalAccount.get(email_key="alan@example.com")).verified_at is None
    forged = await visitor.client.post(path, data={"csrf_token": "1.forged"})
    assert forged.status_code == 403 and (await PortalAccount.get(email_key="alan@example.com")).verified_at is None
    confirmed = await visitor.post_form(path, {})
    assert confirmed.status_code == 200 and "Your email address is confirmed." in confirmed.text
    assert (await PortalAccount.get(email_key="alan@example.com")).verified_at is not None
    reused = (
        await visitor.post_form(path, {})
        if CSRF_RE.search((await visitor.client.get(path)).text)
        else await visitor.client.get(path)
    )
    assert reused.status_code == 410 and "already been used" in reused.text
    no_csrf_login = await visitor.client.post(
        f"/portal/{slug}/login", data={"email": "alan@example.com", "password": PASSWORD}
    )
    assert no_csrf_login.status_code == 403 and "agendum_session" not in no_csrf_login.headers.get("set-cookie", "")
    # The password link: GET and HEAD show the form and use nothing up; a forged POST changes nothing.
    ask = 'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "alan@example.com") { __typename } }'
    await visitor.gql(ask, {"s": slug})
    await smtp.wait_for(2)
    reset_path = link_in(smtp.received[1]).split("testserver", 1)[1]
    old_hash = (await PortalAccount.get(email_key="alan@example.com")).password_hash
    for _ in range(3):
        assert (
            await visitor.client.get(reset_path, params={"password": "x" * 12, "password_again": "x" * 12})
        ).status_code == 200
        assert (await visitor.client.head(reset_path)).status_code in (200, 405)
    forged = await visitor.client.post(
        reset_path, data={"password": "new password 12", "password_again": "new password 12", "csrf_token": "1.x"}
    )
    assert forged.status_code == 403
    assert (await PortalAccount.get(email_key="alan@example.com")).password_hash == old_hash
    assert await PortalToken.filter(used_at__isnull=True, purpose="PASSWORD").count() == 1
    mismatch = await visitor.post_form(reset_path, {"password": "new password 12", "password_again": "new password 13"})
    assert (
        mismatch.status_code == 422
        and (await PortalAccount.get(email_key="alan@example.com")).password_hash == old_hash
    )
    changed = await visitor.post_form(reset_path, {"password": "new password 12", "password_again": "new password 12"})
    assert changed.status_code == 200 and "Your password is set." in changed.text
    await visitor.close()


async def test_portal_off_and_unknown_slugs_are_the_same_404(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    visitor, link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    token = link.rsplit("/", 1)[1]
    assert (await visitor.page(f"/portal/{slug}")).status_code == 200
    unknown = await visitor.page("/portal/no-such-portal")
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: false) { __typename } }',
        {"l": clinic.location},
    )
    for path in (
        "",
        "/register",
        "/forgot",
        "/book",
        "/profile",
        f"/verify/{token}",
        "/password/" + "a" * 43,
        "/from-link/abc",
    ):
        off = await visitor.page(f"/portal/{slug}{path}")
        assert off.status_code == 404 and NONCE.sub("", off.text) == NONCE.sub("", unknown.text), path
    assert unknown.status_code == 404
    disabled = await api.data("query($l: ID!) { portalUrl(locationId: $l) { __typename } }", {"l": clinic.location})
    assert disabled["portalUrl"]["__typename"] == "PluginDisabled"
    services = await visitor.gql("query($s: String!) { portalServices(slug: $s) { __typename } }", {"s": slug})
    assert services["portalServices"]["__typename"] == "NotFound"
    for field in ("portalVerifyEmail(token: $t)", 'portalResetPassword(token: $t, password: "long enough pass")'):
        answer = await visitor.gql(f"mutation($t: String!) {{ answer: {field} {{ __typename }} }}", {"t": token})
        assert answer["answer"]["__typename"] == "NotFound", field
    assert (await PortalToken.get(token_hash=token_hash(token))).used_at is None
    await visitor.close()
