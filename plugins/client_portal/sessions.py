"""Signed-in customers: a session cookie from the web toolkit whose id is looked up (by hash) in
the portal's session table, so signing out or changing the password ends sessions for good."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core import clock
from core.errors import NotFound
from core.models import Customer
from core.security.tokens import token_hash
from plugins.client_portal.addresses import Portal, portal_at
from plugins.client_portal.errors import NotSignedIn
from plugins.client_portal.models import PortalAccount, PortalSession
from web.sessions import SESSION_MAX_AGE, Session, new_session, read_session

LIFETIME = dt.timedelta(seconds=SESSION_MAX_AGE)


@dataclass(frozen=True)
class SignedIn:
    """A customer signed in to the portal of a location, with their password or from an action
    link (`from_link`; account None when they have no verified account)."""

    session: Session
    row: PortalSession
    portal: Portal
    customer: Customer
    account: PortalAccount | None

    @property
    def from_link(self) -> bool:
        """Signed in from an action link: may view and act on appointments, not change the
        password or the profile (sign in with the password for that)."""
        return self.row.from_link

    @property
    def max_age(self) -> int:
        """Seconds the session has left (the cookie's lifetime)."""
        return max(1, int((self.row.expires_at - clock.now()).total_seconds()))


async def start_session(
    request,
    portal: Portal,
    customer_id: int,
    account: PortalAccount | None,
    until: dt.datetime | None = None,
    *,
    from_link: bool = False,
) -> SignedIn:
    """Sign a customer in with a new session, ending the one the browser had (write `.session`
    to the response with `web.sessions.write_session(..., max_age=signed.max_age)`). `until`
    shortens it and `from_link` marks it (a session from a link lasts no longer than the link,
    and cannot change the password or the profile)."""
    previous = read_session(request) if request is not None else None
    if previous is not None:
        await PortalSession.filter(session_hash=token_hash(previous.id)).delete()
    session = new_session({"portal": portal.location.id})
    expires_at = min(clock.now() + LIFETIME, until or clock.now() + LIFETIME)
    row = await PortalSession.create(
        session_hash=token_hash(session.id),
        location_id=portal.location.id,
        customer_id=customer_id,
        account_id=account.id if account else None,
        expires_at=expires_at,
        from_link=from_link,
    )
    return SignedIn(session, row, portal, await Customer.get(id=customer_id), account)


async def signed_in(request) -> SignedIn | None:
    """The request's signed-in customer, or None (no cookie, ended or expired session, or the
    portal is off at its location)."""
    session = read_session(request) if request is not None else None
    if session is None or "portal" not in session.data:
        return None
    row = await PortalSession.get_or_none(session_hash=token_hash(session.id), expires_at__gt=clock.now())
    if row is None:
        return None
    try:
        portal = await portal_at(request.app.state.agendum, row.location_id)
    except NotFound:  # the portal was turned off: its sessions no longer sign anyone in
        return None
    customer = await Customer.get_or_none(id=row.customer_id, location_id=row.location_id)
    account = await PortalAccount.get_or_none(id=row.account_id) if row.account_id else None
    return None if customer is None else SignedIn(session, row, portal, customer, account)


async def require_signed_in(request) -> SignedIn:
    """The signed-in customer, or `NotSignedIn`."""
    signed = await signed_in(request)
    if signed is None:
        raise NotSignedIn()
    return signed


async def end_session(signed: SignedIn) -> None:
    """Sign out: the session id stops working everywhere."""
    await PortalSession.filter(id=signed.row.id).delete()


async def end_other_sessions(customer_id: int, location_id: int, keep: PortalSession | None = None) -> None:
    """End every session of a customer at a location but `keep` (after a password change or reset)."""
    query = PortalSession.filter(customer_id=customer_id, location_id=location_id)
    if keep is not None:
        query = query.exclude(id=keep.id)
    await query.delete()
