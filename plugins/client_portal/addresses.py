"""Where a location's portal lives: its slug (claimed in a table with a unique index), and the
portal a slug leads to."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from core.agendum import Agendum
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.models import Location, PluginActivation
from core.security.access import Staff, require_location
from core.settings import Settings
from plugins.client_portal.models import PortalAddress
from plugins.client_portal.settings import NAME, SLUG_RE, PortalSettings


@dataclass(frozen=True)
class Portal:
    """A portal that is open in an app: its location, settings and the plugins enabled there."""

    app: Agendum
    location: Location
    settings: PortalSettings
    enabled: frozenset[str]
    activations: list[PluginActivation]  # of the location: the allow-list and every plugin's settings

    @property
    def slug(self) -> str:
        return self.settings.slug

    @property
    def url(self) -> str:
        """The full address customers open."""
        return portal_url(self.app.settings, self.slug)

    @property
    def contact(self) -> str:
        """The location's phone (or email) in brackets, to follow its name in a message; or ""."""
        contact = self.location.contact_phone or self.location.contact_email
        return f" ({contact})" if contact else ""


def portal_url(settings: Settings, slug: str) -> str:
    """The full address of the portal with this slug (the app's base URL)."""
    return f"{settings.base_url}/portal/{slug}"


async def open_portal(app: Agendum, slug: str) -> Portal:
    """The portal at this address; `NotFound` when the slug is unknown or the plugin is off there."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise NotFound("Portal")
    address = await PortalAddress.get_or_none(slug=slug)
    if address is None:
        raise NotFound("Portal")
    return await portal_at(app, address.location_id)


async def portal_at(app: Agendum, location_id: int) -> Portal:
    """The portal of a location in an app; `NotFound` when the plugin is off there."""
    host = app.plugins
    activations = await host.activations_at(location_id)
    enabled, settings = host.allow_list_and_settings(NAME, activations)
    location = await Location.get_or_none(id=location_id)
    if NAME not in enabled or location is None or not settings.slug:
        raise NotFound("Portal")
    return Portal(app, location, settings, enabled, activations)


async def staff_portal_slug(actor: Staff | None, location_id: int) -> str:
    """The slug of a location's portal, for staff to copy its address (the caller must see the location)."""
    require_location(actor, location_id)
    address = await PortalAddress.get_or_none(location_id=location_id)
    if address is None:
        raise NotFound("Portal")
    return address.slug


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


async def claim_slug(location: Location, slug: str) -> str:
    """Claim a slug for the location's portal in the address table (one generated from the
    location's name when empty), freeing its old one; the slug claimed."""
    slug = slug or await _free_slug(location)
    if await PortalAddress.filter(slug=slug).exclude(location_id=location.id).exists():
        raise ValidationFailed(
            "settings.slug", f"The address {slug!r} is taken by another location; choose another.", ValidationCode.TAKEN
        )
    try:
        updated = await PortalAddress.filter(location_id=location.id).update(slug=slug)
        if not updated:
            await PortalAddress.create(location_id=location.id, slug=slug)
    except IntegrityError:
        raise ValidationFailed(
            "settings.slug",
            f"The address {slug!r} was just taken by another location; choose another.",
            ValidationCode.TAKEN,
        ) from None
    return slug
