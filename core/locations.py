"""Locations: create, change, list within the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tortoise.transactions import in_transaction

from core import validation as check
from core.availability.rules import clean_rule_fields
from core.colors import clean_color
from core.errors import PermissionDenied, ValidationCode, ValidationFailed
from core.models import Location, Tier
from core.pagination import Page, Paging, keyset_page
from core.plugins import marketplace
from core.security.access import Staff, in_scope, require_owner, require_staff

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

REQUIRED = ("name", "timezone", "currency")


async def settings_source(location: Location) -> Location:
    """The location whose settings (rules, email templates, branding) apply: its headquarters
    when it shares them, else itself."""
    if location.shares_headquarters_settings and location.headquarters_id:
        return await Location.get(id=location.headquarters_id)
    return location


async def save_fields(location: Location, fields: Iterable[str]) -> None:
    """Write only these fields of a loaded location: a concurrent change of another field (the
    logo version, say) is never overwritten with the stale value loaded."""
    names = list(fields)
    if names:
        await location.save(update_fields=names)


def _clean(changes: dict[str, Any], required: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    cleaners = {
        "name": lambda v: check.text("name", v, max_length=200),
        "timezone": lambda v: check.timezone("timezone", v),
        "currency": lambda v: check.currency("currency", v),
        "locale": lambda v: check.locale("locale", v),
        "contact_email": lambda v: check.email("contactEmail", v, required=False),
        "contact_phone": lambda v: check.phone("contactPhone", v),
        "tier": lambda v: Tier(v),
        "slot_step_minutes": lambda v: check.minutes("slotStepMinutes", v, minimum=5, maximum=240),
        "shares_headquarters_settings": bool,
        "headquarters_id": lambda v: v,
        "background_color": lambda v: clean_color("backgroundColor", v),
    }
    unknown = set(changes) - set(cleaners)
    if unknown:
        raise ValidationFailed(sorted(unknown)[0], "Unknown field.", ValidationCode.INVALID_CHOICE)
    return check.clean_all(cleaners, changes, required)


async def _check_headquarters(actor: Staff, location: Location | None, fields: dict[str, Any]) -> None:
    hq_id = fields.get("headquarters_id", location.headquarters_id if location else None)
    shares = fields.get("shares_headquarters_settings", location.shares_headquarters_settings if location else False)
    if shares and hq_id is None:
        raise ValidationFailed(
            "sharesHeadquartersSettings", "Only a location with a headquarters can share its settings."
        )
    if "headquarters_id" not in fields or hq_id is None:
        return
    if location is not None and hq_id == location.id:
        raise ValidationFailed("headquartersId", "A location cannot be its own headquarters.")
    hq = await Location.get_or_none(id=hq_id)
    if hq is None or not actor.may_see(hq.id):
        raise ValidationFailed("headquartersId", "No such location.", ValidationCode.INVALID_CHOICE)
    if hq.headquarters_id is not None:
        raise ValidationFailed("headquartersId", "That location is itself a branch; choose its headquarters.")
    if location is not None and await Location.filter(headquarters_id=location.id).exists():
        raise ValidationFailed("headquartersId", "This location is a headquarters of other locations.")


async def location_page(actor: Staff | None, paging: Paging) -> Page[Location]:
    """A page of the locations the caller may see, by name."""
    staff = require_staff(actor)
    query = Location.all() if staff.is_owner else Location.filter(id__in=list(staff.location_ids))
    return await keyset_page(query, ("name", "id"), paging)


async def get_location(actor: Staff | None, location_id: int) -> Location:
    """One location in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, Location, location_id, "Location", "id")


async def create_location(actor: Staff | None, **values: Any) -> Location:
    """Create a location (owners only); name, timezone and currency are required."""
    staff = require_owner(actor)
    fields = _clean(values, tuple((key, key) for key in REQUIRED))
    await _check_headquarters(staff, None, fields)
    return await Location.create(**fields)


async def update_location(host: PluginHost, actor: Staff | None, location_id: int, **changes: Any) -> Location:
    """Change the given fields of a location; only owners change the tier or headquarters."""
    location = await get_location(actor, location_id)
    staff = require_staff(actor)
    fields = _clean(changes)
    if not staff.is_owner and ({"tier", "headquarters_id"} & fields.keys()):
        raise PermissionDenied("Only an owner may change the tier or the headquarters.")
    await _check_headquarters(staff, location, fields)
    if "background_color" in fields and fields.get(
        "shares_headquarters_settings", location.shares_headquarters_settings
    ):
        raise ValidationFailed(
            "backgroundColor",
            "This location uses its headquarters' settings; change the branding there.",
            ValidationCode.NOT_EDITABLE,
        )
    tier_changed = "tier" in fields and fields["tier"] is not location.tier
    async with in_transaction():
        location.update_from_dict(fields)
        await save_fields(location, fields)
        if tier_changed:
            await marketplace.disable_ineligible(host, location, f"staff:{staff.user_id}")
    return location


async def update_rules(actor: Staff | None, location_id: int, **changes: Any) -> Location:
    """Change the scheduling rules of a location (not of a branch sharing its headquarters')."""
    location = await get_location(actor, location_id)
    if location.shares_headquarters_settings:
        raise ValidationFailed(
            "locationId",
            "This location uses its headquarters' settings; change the rules there.",
            ValidationCode.NOT_EDITABLE,
        )
    fields = clean_rule_fields(changes)
    location.update_from_dict(fields)
    await save_fields(location, fields)
    return location
