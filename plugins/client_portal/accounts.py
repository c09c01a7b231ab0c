"""Customer accounts of the portal: register, confirm the email, set or reset the password by an
emailed single-use link, sign in, change the password and the profile.

Safety rules: an email that already belongs to a customer never gets a password from the
registration form (the password is set through the emailed link, so nobody can pre-register
someone else's history); unknown emails and wrong passwords get the same answer; every attempt
counts against the rate limits; links act only on POST."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock
from core import validation as check
from core.customers import clean_customer_fields, clean_new_customer, customer_for_contact
from core.errors import InvalidCredentials, LinkUnavailable, NotFound, RuleViolation, ValidationFailed
from core.models import Customer
from core.passwords import check_strength, hash_password, verify_password
from core.tokens import looks_like_token, new_token, token_hash
from plugins.client_portal.addresses import Portal, portal_at
from plugins.client_portal.emails import PASSWORD_EVENT, VERIFY_EVENT, send_account_email
from plugins.client_portal.errors import EmailNotVerified
from plugins.client_portal.models import PortalAccount, PortalToken
from plugins.client_portal.sessions import SignedIn, end_other_sessions
from plugins.client_portal.visitor import Visitor

VERIFY, PASSWORD = "VERIFY", "PASSWORD"
LIFETIME = {VERIFY: dt.timedelta(hours=48), PASSWORD: dt.timedelta(hours=2)}
EVENT = {VERIFY: VERIFY_EVENT, PASSWORD: PASSWORD_EVENT}
PATH = {VERIFY: "verify", PASSWORD: "password"}
RESEND_AFTER = dt.timedelta(minutes=10)


async def _send_link(portal: Portal, account: PortalAccount, purpose: str) -> None:
    """Replace the account's unused links of this purpose with a new one, and email it."""
    token = new_token()
    await PortalToken.filter(account_id=account.id, purpose=purpose, used_at__isnull=True).delete()
    await PortalToken.create(account_id=account.id, purpose=purpose, token_hash=token_hash(token),
                             expires_at=clock.now() + LIFETIME[purpose])
    await send_account_email(portal, account, EVENT[purpose], f"{portal.url}/{PATH[purpose]}/{token}")


async def _account(location_id: int, email_key: str, email: str) -> PortalAccount:
    account = await PortalAccount.get_or_none(location_id=location_id, email_key=email_key)
    if account is None:
        try:
            account = await PortalAccount.create(location_id=location_id, email=email, email_key=email_key)
        except IntegrityError:  # registered at this very moment by another request
            raise RuleViolation("TRY_AGAIN", "Please try again in a moment.") from None
    return account


async def register(portal: Portal, details: dict, password: str, visitor: Visitor) -> None:
    """Start an account: a new client gets a confirmation link (their password is kept until they
    confirm); an email that is already a customer's gets a link to set the password instead."""
    contact = clean_new_customer({k: details.get(k, "") for k in ("first_name", "last_name", "email", "mobile_phone")})
    email_key = contact["email_key"]
    await visitor.count_account_attempt("register", portal.location.id, email_key)
    location_id = portal.location.id
    async with in_transaction():
        customer = await Customer.get_or_none(location_id=location_id, email_key=email_key)
        existing = await PortalAccount.get_or_none(location_id=location_id, email_key=email_key)
        if customer is not None or (existing is not None and existing.verified_at is not None):
            account = await _account(location_id, email_key, customer.email if customer else contact["email"])
            if customer is not None and account.customer_id is None:
                account.customer_id = customer.id
                await account.save(update_fields=["customer_id"])
            await _send_link(portal, account, PASSWORD)
            return
        if not portal.settings.accept_new_clients:
            raise RuleViolation("NEW_CLIENTS_NOT_ACCEPTED", "This portal is not taking new clients online. "
                                f"Please contact {portal.location.name}{_contact(portal)} to make an appointment.")
        check_strength("password", password)
        account = await _account(location_id, email_key, contact["email"])
        account.password_hash = await hash_password(password)
        account.pending = {k: contact[k] for k in ("first_name", "last_name", "email", "mobile_phone")}
        await account.save(update_fields=["password_hash", "pending"])
        await _send_link(portal, account, VERIFY)


def _contact(portal: Portal) -> str:
    contact = portal.location.contact_phone or portal.location.contact_email
    return f" ({contact})" if contact else ""


async def request_password_link(portal: Portal, email: str, visitor: Visitor) -> None:
    """Email a link to set a new password, when the address is a client's; the same answer either way."""
    email_key = check.email("email", email or "").lower()
    await visitor.count_account_attempt("reset", portal.location.id, email_key)
    async with in_transaction():
        customer = await Customer.get_or_none(location_id=portal.location.id, email_key=email_key)
        account = await PortalAccount.get_or_none(location_id=portal.location.id, email_key=email_key)
        if customer is None and (account is None or account.verified_at is None):
            return
        account = account or await _account(portal.location.id, email_key, customer.email)
        if customer is not None and account.customer_id is None:
            account.customer_id = customer.id
            await account.save(update_fields=["customer_id"])
        await _send_link(portal, account, PASSWORD)


@dataclass(frozen=True)
class OpenedToken:
    """An emailed link that can still be used: its row, account and portal."""

    row: PortalToken
    account: PortalAccount
    portal: Portal


async def open_token(token: str, purpose: str, visitor: Visitor) -> OpenedToken:
    """Count the attempt, then the link: `NotFound` when unknown, replaced or the portal is off;
    `LinkUnavailable` (USED, EXPIRED) with the location's contact when it cannot be used."""
    await visitor.count_link_attempt(token)
    if not isinstance(token, str) or not looks_like_token(token):
        raise NotFound("Link")
    row = await PortalToken.get_or_none(token_hash=token_hash(token), purpose=purpose)
    account = await PortalAccount.get_or_none(id=row.account_id) if row else None
    if account is None:
        raise NotFound("Link")
    portal = await portal_at(account.location_id)
    if row.used_at is not None or row.expires_at <= clock.now():
        status = "USED" if row.used_at is not None else "EXPIRED"
        message = "This link has already been used." if status == "USED" else "This link has expired."
        location = portal.location
        raise LinkUnavailable(status, f"{message} You can ask for a new one on the portal's sign-in page.",
                              owner_name=location.name, owner_email=location.contact_email, owner_phone=location.contact_phone,
                              location_id=location.id)
    return OpenedToken(row, account, portal)


async def _use(opened: OpenedToken) -> None:
    """Mark the link used, once: a second request at the same moment finds it used."""
    if not await PortalToken.filter(id=opened.row.id, used_at__isnull=True).update(used_at=clock.now()):
        raise LinkUnavailable("USED", "This link has already been used.", owner_name=opened.portal.location.name,
                              owner_email=opened.portal.location.contact_email, owner_phone=opened.portal.location.contact_phone,
                              location_id=opened.portal.location.id)


async def _link_customer(account: PortalAccount) -> None:
    """Attach the account to its customer: the existing one with this email, or a new one from
    the registration's details."""
    if account.customer_id is not None:
        return
    contact = clean_new_customer({**account.pending, "email": account.email}) if account.pending else None
    if contact is None:
        raise NotFound("Link")
    account.customer_id = (await customer_for_contact(account.location_id, contact)).id


async def verify_email(opened: OpenedToken) -> PortalAccount:
    """Confirm the email address: the account can sign in from now on."""
    account = opened.account
    async with in_transaction():
        await _use(opened)
        await _link_customer(account)
        account.verified_at, account.pending = clock.now(), {}
        await account.save(update_fields=["customer_id", "verified_at", "pending"])
    return account


async def reset_password(opened: OpenedToken, password: str) -> PortalAccount:
    """Set a new password through the emailed link (which also confirms the address); every
    session of the customer ends."""
    check_strength("password", password)
    account = opened.account
    async with in_transaction():
        await _use(opened)
        await _link_customer(account)
        account.password_hash = await hash_password(password)
        account.verified_at = account.verified_at or clock.now()
        account.password_changed_at, account.pending = clock.now(), {}
        await account.save(update_fields=["customer_id", "password_hash", "verified_at", "password_changed_at", "pending"])
        await end_other_sessions(account.customer_id, account.location_id)
    return account


async def login(portal: Portal, email: str, password: str, visitor: Visitor) -> PortalAccount:
    """The account for these credentials; `InvalidCredentials` alike for an unknown email and a
    wrong password, `EmailNotVerified` (and a fresh link, now and then) before confirmation."""
    email_key = str(email or "").strip().lower()[:254]
    await visitor.count_account_attempt("login", portal.location.id, email_key)
    account = await PortalAccount.get_or_none(location_id=portal.location.id, email_key=email_key) if email_key else None
    if not await verify_password(account.password_hash if account and account.password_hash else None, str(password or "")[:1024]):
        raise InvalidCredentials()
    if account.verified_at is None or account.customer_id is None:
        now = clock.now()
        pending = await PortalToken.filter(account_id=account.id, purpose=VERIFY, used_at__isnull=True, expires_at__gt=now,
                                           created_at__gt=now - RESEND_AFTER).exists()
        if not pending:  # a link sent in the last minutes still works: no new email for every attempt
            async with in_transaction():
                await _send_link(portal, account, VERIFY)
        raise EmailNotVerified()
    return account


async def _check_current(signed: SignedIn, current_password: str, visitor: Visitor) -> PortalAccount:
    account = signed.account
    await visitor.count_account_attempt("password", signed.portal.location.id, signed.customer.email_key)
    if account is None or not account.password_hash:
        raise ValidationFailed("currentPassword", "You have no password yet: use “Forgot your password?” on the sign-in page to set one.")
    if not await verify_password(account.password_hash, str(current_password or "")[:1024]):
        raise ValidationFailed("currentPassword", "That is not your current password.")
    return account


async def change_password(signed: SignedIn, current_password: str, new_password: str, visitor: Visitor) -> None:
    """Change the password (the current one is required); the customer's other sessions end."""
    account = await _check_current(signed, current_password, visitor)
    check_strength("newPassword", new_password)
    async with in_transaction():
        account.password_hash, account.password_changed_at = await hash_password(new_password), clock.now()
        await account.save(update_fields=["password_hash", "password_changed_at"])
        await end_other_sessions(signed.customer.id, signed.portal.location.id, keep=signed.row)


async def update_profile(signed: SignedIn, current_password: str, changes: dict, visitor: Visitor) -> Customer:
    """Change the customer's name and mobile phone (the current password is required)."""
    await _check_current(signed, current_password, visitor)
    clean = clean_customer_fields({k: v for k, v in changes.items() if k in ("first_name", "last_name", "mobile_phone") and v is not None})
    customer = signed.customer
    if clean:
        customer.update_from_dict(clean)
        await customer.save(update_fields=list(clean))
    return customer
