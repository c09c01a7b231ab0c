"""Customer accounts of the portal: register, confirm the email, set or reset the password by an
emailed single-use link, sign in, change the password and the profile.

Safety rules: a password typed into a form only ever opens a brand-new client's own account,
once its email is confirmed; an email that belongs to a customer (even one added after the
registration) gets its password chosen through an emailed link, so nobody can pre-register
someone else's history. Unknown emails and wrong passwords get the same answer; every attempt
counts against the rate limits; links act only on POST; passwords are hashed outside transactions."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock, validation as check
from core.customers import clean_customer_fields, clean_new_customer
from core.email.secrets import sealed_link
from core.errors import InvalidCredentials, LinkUnavailable, NotFound, RuleViolation, ValidationCode, ValidationFailed
from core.models import Customer
from core.security.passwords import check_strength, hash_password, verify_password
from core.security.tokens import looks_like_token, new_token, token_hash
from plugins.client_portal.addresses import Portal, portal_at
from plugins.client_portal.emails import PASSWORD_EVENT, VERIFY_EVENT, send_account_email
from plugins.client_portal.errors import EmailNotVerified, PasswordSignInRequired
from plugins.client_portal.models import PortalAccount, PortalToken
from plugins.client_portal.sessions import SignedIn, end_other_sessions
from plugins.client_portal.visitor import Visitor

VERIFY, PASSWORD = "VERIFY", "PASSWORD"
LIFETIME = {VERIFY: dt.timedelta(hours=48), PASSWORD: dt.timedelta(hours=2)}
EVENT = {VERIFY: VERIFY_EVENT, PASSWORD: PASSWORD_EVENT}
PATH = {VERIFY: "verify", PASSWORD: "password"}
RESEND_AFTER = dt.timedelta(minutes=10)
TRY_AGAIN = "Please try again in a moment."
ALREADY_A_CLIENT = (
    "Your email is confirmed. You are already one of our clients: we have emailed you a link to choose your password."
)


@contextlib.asynccontextmanager
async def _mailing(portal: Portal):
    """A transaction that queues account emails; the portal's app's delivery workers are woken once it commits."""
    async with in_transaction():
        yield
    portal.app.wake_workers()


async def _send_link(portal: Portal, account: PortalAccount, purpose: str, customer: Customer | None = None) -> None:
    """Replace the account's unused links with a new one of this purpose, and email it (to
    `customer`, when the caller has the account's customer at hand)."""
    token = new_token()
    await PortalToken.filter(account_id=account.id, used_at__isnull=True).delete()
    await PortalToken.create(
        account_id=account.id, purpose=purpose, token_hash=token_hash(token), expires_at=clock.now() + LIFETIME[purpose]
    )
    # The email keeps the link sealed (core.email.secrets): the outbox never holds it in clear,
    # and every try, resend or duplicate of the email carries this same link.
    link = sealed_link(f"{portal.url}/{PATH[purpose]}/{token}", portal.app.settings)
    await send_account_email(portal, account, EVENT[purpose], link, customer)


async def _live_account(location_id: int, email_key: str, customer: Customer | None = None) -> PortalAccount | None:
    """The account signing in with this email: one whose customer (if it has one yet) still has
    the email (`customer`: the email's customer, when the caller has it). An account left behind
    by a change of the customer's email is removed."""
    account = await PortalAccount.get_or_none(location_id=location_id, email_key=email_key)
    if account is not None and account.customer_id is not None:
        owner = (
            customer
            if customer is not None and customer.id == account.customer_id
            else await Customer.get_or_none(id=account.customer_id)
        )
        if owner is None or owner.email_key != email_key:
            await account.delete()
            return None
    return account


async def _account_of(customer: Customer) -> PortalAccount:
    """The customer's account (created, without a password, when they have none): the only one."""
    account = await _live_account(customer.location_id, customer.email_key, customer)
    try:
        if account is None:
            account = await PortalAccount.create(
                location_id=customer.location_id,
                email=customer.email,
                email_key=customer.email_key,
                customer_id=customer.id,
            )
        elif account.customer_id is None:  # a registration waiting for confirmation: the customer came first
            account.customer_id, account.password_hash, account.pending = customer.id, "", {}
            await account.save(update_fields=["customer_id", "password_hash", "pending"])
    except IntegrityError:  # created at this very moment by another request
        raise RuleViolation("TRY_AGAIN", TRY_AGAIN) from None
    await PortalAccount.filter(customer_id=customer.id).exclude(id=account.id).delete()
    return account


async def register(portal: Portal, details: dict, password: str, visitor: Visitor) -> None:
    """Start an account. A new client gets a link to confirm the email, which makes the password
    they chose here usable. Anyone else gets a link to choose the password from their mailbox:
    an existing client (a form never sets their password), or a second registration of an email
    still waiting for confirmation (the first one's password is dropped)."""
    contact = clean_new_customer({k: details.get(k, "") for k in ("first_name", "last_name", "email", "mobile_phone")})
    await check_strength("password", password, [contact["email"], contact["first_name"], contact["last_name"]])
    email_key, location_id = contact["email_key"], portal.location.id
    await visitor.count_account_attempt("register", location_id, email_key)
    password_hash = await hash_password(password, portal.app.settings)  # for every email alike, so answers take as long
    async with _mailing(portal):
        customer = await Customer.get_or_none(location_id=location_id, email_key=email_key)
        if customer is not None:
            await _send_link(portal, await _account_of(customer), PASSWORD, customer)
            return
        account = await _live_account(location_id, email_key)
        if account is None and not portal.settings.accept_new_clients:
            raise RuleViolation(
                "NEW_CLIENTS_NOT_ACCEPTED",
                "This portal is not taking new clients online. "
                f"Please contact {portal.location.name}{portal.contact} to make an appointment.",
            )
        pending = {k: contact[k] for k in ("first_name", "last_name", "mobile_phone")}
        if account is not None:
            account.password_hash, account.pending = "", pending
            await account.save(update_fields=["password_hash", "pending"])
            await _send_link(portal, account, PASSWORD)
            return
        try:
            account = await PortalAccount.create(
                location_id=location_id,
                email=contact["email"],
                email_key=email_key,
                password_hash=password_hash,
                pending=pending,
            )
        except IntegrityError:
            raise RuleViolation("TRY_AGAIN", TRY_AGAIN) from None
        await _send_link(portal, account, VERIFY)


class _Undone(Exception):
    """Rolls back the stand-in work done for an address that is no client's."""


async def request_password_link(portal: Portal, email: str, visitor: Visitor) -> None:
    """Email a link to set a new password, when the address is a client's. The same answer either
    way, after the same work: for any other address the same steps run on a stand-in account (a
    link minted and stored, its email composed and queued) in a savepoint that is rolled back."""
    address = check.email("email", email or "")
    email_key = address.lower()
    await visitor.count_account_attempt("reset", portal.location.id, email_key)
    async with _mailing(portal):
        customer = await Customer.get_or_none(location_id=portal.location.id, email_key=email_key)
        if customer is not None:
            await _send_link(portal, await _account_of(customer), PASSWORD, customer)
            return
        with contextlib.suppress(_Undone, IntegrityError):
            async with in_transaction():
                account = await _live_account(portal.location.id, email_key) or await PortalAccount.create(
                    location_id=portal.location.id, email=address, email_key=email_key
                )
                await _send_link(portal, account, PASSWORD)
                raise _Undone


@dataclass(frozen=True)
class OpenedToken:
    """An emailed link that can still be used: its row, account and portal."""

    row: PortalToken
    account: PortalAccount
    portal: Portal


def _unavailable(portal: Portal, status: str) -> LinkUnavailable:
    message = "This link has already been used." if status == "USED" else "This link has expired."
    location = portal.location
    return LinkUnavailable(
        status,
        f"{message} You can ask for a new one on the portal's sign-in page.",
        owner_name=location.name,
        owner_email=location.contact_email,
        owner_phone=location.contact_phone,
        location_id=location.id,
    )


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
    portal = await portal_at(visitor.app, account.location_id)
    if row.used_at is not None or row.expires_at <= clock.now():
        raise _unavailable(portal, "USED" if row.used_at is not None else "EXPIRED")
    return OpenedToken(row, account, portal)


async def _use(opened: OpenedToken) -> None:
    """Mark the link used, once: a second request at the same moment finds it used."""
    if not await PortalToken.filter(id=opened.row.id, used_at__isnull=True).update(used_at=clock.now()):
        raise _unavailable(opened.portal, "USED")


async def _new_customer(account: PortalAccount) -> None:
    """Give a confirmed registration its customer, made from the registration's details."""
    contact = clean_new_customer({**account.pending, "email": account.email})
    try:
        account.customer_id = (await Customer.create(location_id=account.location_id, **contact)).id
    except IntegrityError:  # the same email was just added by another request
        raise RuleViolation("TRY_AGAIN", TRY_AGAIN) from None


async def verify_email(opened: OpenedToken) -> bool:
    """Confirm the email address of a new client: their account can sign in from now on. True,
    unless the email has become an existing customer's meanwhile: then the registration's password
    is dropped and a link to choose one is emailed instead (False)."""
    account, portal = opened.account, opened.portal
    async with _mailing(portal):
        await _use(opened)
        customer = await Customer.get_or_none(location_id=account.location_id, email_key=account.email_key)
        if customer is not None or account.customer_id is not None or not account.password_hash:
            await _send_link(portal, await _account_of(customer) if customer else account, PASSWORD)
            return False
        await _new_customer(account)
        account.verified_at, account.pending = clock.now(), {}
        await account.save(update_fields=["customer_id", "verified_at", "pending"])
    return True


async def reset_password(opened: OpenedToken, password: str) -> PortalAccount:
    """Choose a new password through the emailed link (which also confirms the address); every
    session of the customer ends."""
    await check_strength("password", password, [opened.account.email, *opened.account.pending.values()])
    password_hash = await hash_password(password, opened.portal.app.settings)
    account = opened.account
    async with in_transaction():
        await _use(opened)
        if account.customer_id is None:
            existing = await Customer.get_or_none(location_id=account.location_id, email_key=account.email_key)
            if existing is not None:
                account = await _account_of(existing)
            else:
                await _new_customer(account)
        account.password_hash, account.verified_at = password_hash, account.verified_at or clock.now()
        account.password_changed_at, account.pending = clock.now(), {}
        await account.save(
            update_fields=["customer_id", "password_hash", "verified_at", "password_changed_at", "pending"]
        )
        await end_other_sessions(account.customer_id, account.location_id)
    return account


async def login(portal: Portal, email: str, password: str, visitor: Visitor) -> PortalAccount:
    """The account for these credentials; `InvalidCredentials` alike for an unknown email and a
    wrong password, `EmailNotVerified` (and a fresh link, now and then) before confirmation."""
    email_key = str(email or "").strip().lower()[:254]
    await visitor.count_account_attempt("login", portal.location.id, email_key)
    account = await _live_account(portal.location.id, email_key) if email_key else None
    if not await verify_password(
        account.password_hash if account and account.password_hash else None,
        str(password or "")[:1024],
        portal.app.settings,
    ):
        raise InvalidCredentials()
    if account.verified_at is None or account.customer_id is None:
        now = clock.now()
        pending = await PortalToken.filter(
            account_id=account.id,
            purpose=VERIFY,
            used_at__isnull=True,
            expires_at__gt=now,
            created_at__gt=now - RESEND_AFTER,
        ).exists()
        if not pending:  # a link sent in the last minutes still works: no new email for every attempt
            async with _mailing(portal):
                await _send_link(portal, account, VERIFY)
        raise EmailNotVerified()
    return account


async def _check_current(signed: SignedIn, current_password: str, visitor: Visitor) -> PortalAccount:
    """The account, once the current password is right; never for a session from an action link."""
    if signed.from_link:
        raise PasswordSignInRequired()
    account = signed.account
    await visitor.count_account_attempt("password", signed.portal.location.id, signed.customer.email_key)
    if account is None or not account.password_hash:
        raise ValidationFailed(
            "currentPassword", "You have no password yet: use “Forgot your password?” on the sign-in page to set one."
        )
    if not await verify_password(account.password_hash, str(current_password or "")[:1024], signed.portal.app.settings):
        raise ValidationFailed("currentPassword", "That is not your current password.", ValidationCode.INCORRECT)
    return account


async def change_password(signed: SignedIn, current_password: str, new_password: str, visitor: Visitor) -> None:
    """Change the password (the current one is required); the customer's other sessions end."""
    account = await _check_current(signed, current_password, visitor)
    customer = signed.customer
    await check_strength("newPassword", new_password, [customer.email, customer.first_name, customer.last_name])
    password_hash = await hash_password(new_password, signed.portal.app.settings)
    async with in_transaction():
        account.password_hash, account.password_changed_at = password_hash, clock.now()
        await account.save(update_fields=["password_hash", "password_changed_at"])
        await PortalToken.filter(
            account_id=account.id, used_at__isnull=True
        ).delete()  # emailed links die with the old password
        await end_other_sessions(signed.customer.id, signed.portal.location.id, keep=signed.row)


async def update_profile(signed: SignedIn, current_password: str, changes: dict, visitor: Visitor) -> Customer:
    """Change the customer's name and mobile phone (the current password is required)."""
    await _check_current(signed, current_password, visitor)
    clean = clean_customer_fields(
        {k: v for k, v in changes.items() if k in ("first_name", "last_name", "mobile_phone") and v is not None}
    )
    customer = signed.customer
    if clean:
        customer.update_from_dict(clean)
        await customer.save(update_fields=list(clean))
    return customer
