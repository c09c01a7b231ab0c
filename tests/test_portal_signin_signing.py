"""The portal's sign-in links ("See all my appointments") on the one signing scheme (web/signing.py):
their own salt (a session cookie or CSRF token is no sign-in link, and the other way round), key
rotation, and expiry by the app's clock."""

from __future__ import annotations

from portal_helpers import Customer, portal_clinic, sign_in_link_from_action_page

from core import clock
from plugins.client_portal.models import PortalSession
from plugins.client_portal.signin_links import SALT
from web import csrf, sessions
from web.signing import sign, unsign

OLD_KEY = "0dRk3v5Qd2R2nqf4iVY_1zJxq0XyWn9ZtB7cLmP8sKjH4eGuA6oT3wYbN5vF1aDr"
NEW_KEY = "pQ7xV2mL9kR4tW8zN1cB6yH3jF5gD0sA_eUiOoTqYrXwEvCbMnZlKaJhGfSdPuIy"
ME = "{ portalMe { __typename } }"


def _with_token(path: str, token: str) -> str:
    return path.rsplit("/", 1)[0] + "/" + token


async def test_a_value_signed_for_another_purpose_is_no_sign_in_link_and_a_sign_in_link_is_no_session(
    api_factory, smtp
):
    api = await api_factory(smtp_url=smtp.url())
    clinic, _ = await portal_clinic(api)
    ada = Customer(api)
    _, path = await sign_in_link_from_action_page(api, clinic, ada)
    token = path.rsplit("/", 1)[1]
    payload = unsign(api.settings.secret_keys, SALT, token)
    assert (await ada.page(_with_token(path, sign(api.settings.secret_keys, SALT, payload)))).status_code == 200
    for other in (sessions.SALT, csrf.SALT):  # the same payload, signed for another purpose
        assert (await ada.page(_with_token(path, sign(api.settings.secret_keys, other, payload)))).status_code == 404
    assert (await ada.page(_with_token(path, csrf.csrf_token(api.settings.secret_key, token)))).status_code == 404
    # The sign-in token as a session cookie, or as the form's CSRF token, signs nobody in.
    stranger = Customer(api)
    stranger.client.cookies.set(sessions.COOKIE_NAME, token)
    assert (await stranger.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"
    assert (await stranger.client.post(path, data={"csrf_token": token})).status_code == 403
    assert await PortalSession.all().count() == 0
    await stranger.close()
    await ada.close()


async def test_a_sign_in_link_signed_with_a_fallback_key_works_and_with_an_unknown_key_is_unknown(api_factory, smtp):
    a = await api_factory(secret_key=OLD_KEY, smtp_url=smtp.url())
    clinic, _ = await portal_clinic(a)
    ada = Customer(a)
    _, path = await sign_in_link_from_action_page(a, clinic, ada)
    await ada.close()
    b = await api_factory(secret_key=NEW_KEY, secret_key_fallbacks=(OLD_KEY,), smtp_url=smtp.url())
    c = await api_factory(secret_key=NEW_KEY, smtp_url=smtp.url())
    at_c = Customer(c)
    assert (await at_c.page(path)).status_code == 404
    assert (await at_c.client.post(path, data={"csrf_token": "x"})).status_code == 404
    at_b = Customer(b)
    assert (await at_b.page(path)).status_code == 200
    assert (await at_b.post_form(path, {})).status_code == 303
    assert (await at_b.gql(ME))["portalMe"]["__typename"] == "PortalCustomer"
    await at_b.close()
    await at_c.close()


async def test_a_sign_in_link_expires_by_the_app_clock(api_factory, smtp, advance_clock):
    api = await api_factory(smtp_url=smtp.url())
    clinic, _ = await portal_clinic(api)
    ada = Customer(api)
    appointment, path = await sign_in_link_from_action_page(api, clinic, ada)
    hour = sign(api.settings.secret_keys, SALT, [appointment.id, int(clock.now().timestamp()) + 3600, ""])
    assert (await ada.page(_with_token(path, hour))).status_code == 200
    advance_clock(3601)
    expired = await ada.page(_with_token(path, hour))
    assert expired.status_code == 410 and "This link has expired." in expired.text
    assert (await ada.client.post(_with_token(path, hour), data={"csrf_token": "x"})).status_code == 410
    assert (await ada.gql(ME))["portalMe"]["__typename"] == "NotSignedIn"
    await ada.close()
