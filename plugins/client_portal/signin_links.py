"""“See all my appointments”: the portal's link on an action-link page. Its token is signed (not
stored) by web/signing.py (salt `SALT`) and names the appointment and an expiry no later than the
page's own link; following it shows a button whose POST signs that customer in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import clock
from core.errors import LinkUnavailable, NotFound
from core.models import Appointment, Customer
from core.plugins.types import Link
from core.settings import Settings
from plugins.client_portal.addresses import Portal, portal_at, portal_url
from plugins.client_portal.models import PortalAccount
from plugins.client_portal.visitor import Visitor
from web.signing import sign, unsign

SALT = "agendum.portal-signin.v1"
DEFAULT_LIFETIME = dt.timedelta(hours=24)
MAX_TOKEN = 200


def sign_in_link(
    settings: Settings, slug: str, appointment: Appointment, valid_until: dt.datetime | None, origin: str | None
) -> Link:
    """The link offered beside an appointment to the customer, into the portal at `slug`: valid
    until `valid_until` (the asking page's own expiry), or a day when the page gives none, and
    only while the page's own link (`origin`) still works."""
    expiry = valid_until or clock.now() + DEFAULT_LIFETIME
    token = sign(settings.secret_keys, SALT, [appointment.id, int(expiry.timestamp()), origin or ""])
    return Link("portal_sign_in", "See all my appointments", f"{portal_url(settings, slug)}/from-link/{token}")


@dataclass(frozen=True)
class SignInOffer:
    """A valid sign-in link: the portal and the customer it signs in."""

    portal: Portal
    customer: Customer
    account: PortalAccount | None
    expires_at: dt.datetime


async def open_sign_in(token: str, visitor: Visitor) -> SignInOffer:
    """Count the attempt, then the link: `NotFound` when forged or the portal is off;
    `LinkUnavailable` EXPIRED past its expiry."""
    await visitor.count_link_attempt(token)
    try:
        appointment_id, expires, origin = unsign(visitor.app.settings.secret_keys, SALT, token, max_length=MAX_TOKEN)
        appointment_id, expires, origin = int(appointment_id), int(expires), str(origin)
    except (TypeError, ValueError, OverflowError):  # None (not a valid token) or a payload of another shape
        raise NotFound("Link") from None
    appointment = await Appointment.get_or_none(id=appointment_id)
    if appointment is None:
        raise NotFound("Link")
    portal = await portal_at(visitor.app, appointment.location_id)
    if origin and not await visitor.app.plugins.origin_is_live(appointment.location_id, origin):
        raise NotFound("Link")  # the link it was shown on was replaced or turned off: this one goes with it
    if expires <= clock.now().timestamp():
        location = portal.location
        raise LinkUnavailable(
            "EXPIRED",
            "This link has expired. Sign in with your email and password instead.",
            owner_name=location.name,
            owner_email=location.contact_email,
            owner_phone=location.contact_phone,
            location_id=location.id,
        )
    customer = await Customer.get(id=appointment.customer_id)
    account = await PortalAccount.get_or_none(
        location_id=portal.location.id, customer_id=customer.id, verified_at__isnull=False
    )
    return SignInOffer(portal, customer, account, dt.datetime.fromtimestamp(expires, dt.UTC))
