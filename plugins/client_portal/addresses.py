"""Where a location's portal lives: its slug (claimed in a table with a unique index), and the
portal a slug leads to."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from core import plugins
from core.access import Staff, require_location
from core.email_templates import template_by_reference
from core.errors import NotFound, ValidationFailed
from core.models import Location, RecipientRole
from plugins.client_portal.models import PortalAddress
from plugins.client_portal.settings import BOOKED_EVENT, CANCELLED_EVENT, NAME, SLUG_RE, PortalSettings

TEMPLATE_SETTINGS = {
    "notifyOnNewTemplate": BOOKED_EVENT,
    "notifyOnCancelTemplate": CANCELLED_EVENT,
    "newAppointmentAddressesTemplate": BOOKED_EVENT,
}


@dataclass(frozen=True)
class Portal:
    """A portal that is open: its location, settings and the plugins enabled there."""

    location: Location
    settings: PortalSettings
    enabled: frozenset[str]

    @property
    def slug(self) -> str:
        return self.settings.slug

    @property
    def url(self) -> str:
        """The full address customers open."""
        return portal_url(self.slug)

    @property
    def contact(self) -> str:
        """The location's phone (or email) in brackets, to follow its name in a message; or ""."""
        contact = self.location.contact_phone or self.location.contact_email
        return f" ({contact})" if contact else ""


def portal_url(slug: str) -> str:
    """The full address of the portal with this slug."""
    return f"{plugins.current().settings.base_url}/portal/{slug}"


async def open_portal(slug: str) -> Portal:
    """The portal at this address; `NotFound` when the slug is unknown or the plugin is off there."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise NotFound("Portal")
    address = await PortalAddress.get_or_none(slug=slug)
    if address is None:
        raise NotFound("Portal")
    return await portal_at(address.location_id)


async def portal_at(location_id: int) -> Portal:
    """The portal of a location; `NotFound` when the plugin is off there."""
    enabled, settings = await plugins.current().enabled_with_settings(NAME, location_id)
    location = await Location.get_or_none(id=location_id)
    if NAME not in enabled or location is None or not settings.slug:
        raise NotFound("Portal")
    return Portal(location, settings, enabled)


async def staff_portal_url(actor: Staff | None, location_id: int) -> str:
    """The portal's full address for staff to copy (the caller must see the location)."""
    require_location(actor, location_id)
    address = await PortalAddress.get_or_none(location_id=location_id)
    if address is None:
        raise NotFound("Portal")
    return portal_url(address.slug)


def _slug_base(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:50].strip("-")
    return base if len(base) >= 3 else f"portal-{base}".strip("-")


async def _free_slug(location: Location) -> str:
    base = _slug_base(location.name)
    for candidate in (base, f"{base}-{location.id}"):
        if not await PortalAddress.filter(slug=candidate).exclude(location_id=location.id).exists():
            return candidate
    return f"portal-{location.id}"


async def validate_settings(location_id: int, settings: dict) -> dict:
    """Check the chosen templates, then claim the slug (generated from the location's name when
    empty) in the address table; the settings with the slug filled in."""
    location = await Location.get(id=location_id)
    for key, event in TEMPLATE_SETTINGS.items():
        reference = settings.get(key)
        if reference is None:
            continue
        try:
            template = await template_by_reference(reference, location)
        except NotFound:
            template = None
        if template is None or template.event != event or template.role is not RecipientRole.STAFF:
            raise ValidationFailed(f"settings.{key}", f"Choose a staff template of the event {event} at this location, or null for no email.")
    slug = settings.get("slug") or await _free_slug(location)
    if await PortalAddress.filter(slug=slug).exclude(location_id=location_id).exists():
        raise ValidationFailed("settings.slug", f"The address {slug!r} is taken by another location; choose another.")
    try:
        updated = await PortalAddress.filter(location_id=location_id).update(slug=slug)
        if not updated:
            await PortalAddress.create(location_id=location_id, slug=slug)
    except IntegrityError:
        raise ValidationFailed("settings.slug", f"The address {slug!r} was just taken by another location; choose another.") from None
    return {**settings, "slug": slug}
