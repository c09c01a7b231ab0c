"""Staff accounts: users, sign-in with rate limits, bearer tokens that expire and can be revoked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import sql, validation as check
from core.clock import now
from core.errors import InvalidCredentials, NotFound, PermissionDenied, ValidationCode, ValidationFailed
from core.models import Location, StaffRole, StaffToken, StaffUser
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, require_owner, require_staff
from core.security.passwords import check_strength, hash_password, verify_password
from core.security.ratelimit import Limiter, count_account_attempt
from core.security.tokens import new_token, token_hash
from core.settings import Settings


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token shown once to its owner; only its hash is kept."""

    token: str
    expires_at: dt.datetime
    user: StaffUser


_TOKEN_SQL = (
    'SELECT t.id, t.user_id, t.expires_at, u.role FROM "staff_token" t JOIN "staff_user" u ON u.id = t.user_id'
    " WHERE t.token_hash = {0} AND t.revoked_at IS NULL AND u.active = {true}"
)
_MANAGED_SQL = 'SELECT location_id FROM "staff_user_location" WHERE staff_user_id = {0}'


async def authenticate(token: str) -> Staff | None:
    """The staff member a bearer token belongs to, or None if unknown, expired, revoked or inactive.

    Runs on every authenticated request: one hand-written query (two for a manager), because
    building it through the ORM costs several times more than running it."""
    found = await sql.rows(_TOKEN_SQL, [token_hash(token)])
    if not found or sql.instant(found[0]["expires_at"]) <= now():
        return None
    row = found[0]
    role = StaffRole(row["role"])
    location_ids: frozenset[int] = frozenset()
    if role is StaffRole.MANAGER:
        managed = await sql.rows(_MANAGED_SQL, [row["user_id"]])
        location_ids = frozenset(r["location_id"] for r in managed)
    return Staff(user_id=row["user_id"], role=role, location_ids=location_ids, token_id=row["id"])


async def issue_token(user: StaffUser, hours: int) -> IssuedToken:
    """Create a bearer token for a user, valid for `hours`."""
    token = new_token()
    expires_at = now() + dt.timedelta(hours=hours)
    await StaffToken.create(user=user, token_hash=token_hash(token), expires_at=expires_at)
    return IssuedToken(token=token, expires_at=expires_at, user=user)


async def login(email: str, password: str, *, client_ip: str, limiter: Limiter, settings: Settings) -> IssuedToken:
    """Exchange email and password for a token; every attempt counts per IP, per account and client
    network, and per account (core.security.ratelimit.count_account_attempt)."""
    email_key = email.strip().lower()[:254]
    await count_account_attempt(limiter, settings, "staff-login", email_key, client_ip)
    user = await StaffUser.get_or_none(email_key=email_key, active=True)
    if not await verify_password(user.password_hash if user else None, password, settings) or user is None:
        raise InvalidCredentials()
    return await issue_token(user, settings.staff_token_hours)


async def _locations_in_scope(staff: Staff, location_ids: list[int]) -> list[Location]:
    wanted = set(location_ids)
    locations = await Location.filter(id__in=list(wanted))
    found = {loc.id for loc in locations}
    problems = check.Problems()
    for index, location_id in enumerate(location_ids):
        if location_id not in found or not staff.may_see(location_id):
            problems.add(f"locationIds[{index}]", f"Location {location_id} not found.", ValidationCode.INVALID_CHOICE)
    problems.raise_any()
    return locations


async def create_staff_user(
    actor: Staff | None,
    *,
    email: str,
    password: str,
    role: StaffRole,
    name: str = "",
    location_ids: list[int] | None = None,
    settings: Settings,
) -> StaffUser:
    """Create a staff user (owners only); a manager must be given at least one location."""
    staff = require_owner(actor)
    clean_email = check.email("email", email)
    clean_name = check.text("name", name, max_length=200, required=False)
    await check_strength("password", password, [clean_email, clean_name])
    locations = await _locations_in_scope(staff, location_ids or [])
    if role is StaffRole.MANAGER and not locations:
        raise ValidationFailed("locationIds", "A manager needs at least one location.", ValidationCode.REQUIRED)
    if role is StaffRole.OWNER and locations:
        raise ValidationFailed("locationIds", "An owner sees every location; give no locations.")
    if await StaffUser.filter(email_key=clean_email.lower()).exists():
        raise ValidationFailed("email", "A staff user with this email already exists.", ValidationCode.TAKEN)
    password_hash = await hash_password(password, settings)
    try:
        async with in_transaction():
            user = await StaffUser.create(
                email=clean_email,
                email_key=clean_email.lower(),
                name=clean_name,
                password_hash=password_hash,
                role=role,
            )
            if locations:
                await user.locations.add(*locations)
    except IntegrityError:
        raise ValidationFailed("email", "A staff user with this email already exists.", ValidationCode.TAKEN) from None
    return user


async def staff_user_page(actor: Staff | None, paging: Paging) -> Page[StaffUser]:
    """A page of the staff users the caller may see: all for owners; for a manager, the managers
    of their locations."""
    staff = require_staff(actor)
    query = StaffUser.all()
    if not staff.is_owner:
        ids = await StaffUser.filter(locations__id__in=list(staff.location_ids)).values_list("id", flat=True)
        query = StaffUser.filter(id__in=list(set(ids)) or [staff.user_id])
    return await keyset_page(query, ("id",), paging)


async def revoke_tokens(actor: Staff | None, *, token: str | None = None, user_id: int | None = None) -> int:
    """Revoke a token, all tokens of a user, or (neither given) the caller's own; returns how many."""
    staff = require_staff(actor)
    query = StaffToken.filter(revoked_at__isnull=True)
    if token is not None:
        row = await StaffToken.get_or_none(token_hash=token_hash(token))
        if row is None or (row.user_id != staff.user_id and not staff.is_owner):
            raise NotFound("Token")
        query = query.filter(id=row.id)
    elif user_id is not None:
        if user_id != staff.user_id and not staff.is_owner:
            raise PermissionDenied("Only an owner may revoke another user's tokens.")
        if not await StaffUser.exists(id=user_id):
            raise NotFound("StaffUser", user_id)
        query = query.filter(user_id=user_id)
    else:
        query = query.filter(id=staff.token_id)
    return await query.update(revoked_at=now())


async def create_admin(email: str, password: str | None, settings: Settings) -> IssuedToken:
    """Create (or find) an owner account for the CLI and issue a token for it."""
    clean_email = check.email("email", email)
    if password is not None:
        await check_strength("password", password, [clean_email])
    user = await StaffUser.get_or_none(email_key=clean_email.lower())
    if user is None:
        user = await StaffUser.create(
            email=clean_email,
            email_key=clean_email.lower(),
            name="Administrator",
            password_hash=await hash_password(password or new_token(), settings),
            role=StaffRole.OWNER,
        )
    elif user.role is not StaffRole.OWNER:
        raise ValidationFailed("email", "That staff user exists and is not an owner.")
    return await issue_token(user, settings.staff_token_hours)
