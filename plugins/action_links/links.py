"""Action link tokens: derived per appointment and generation, looked up by hash, expiring
`validHoursAfterEnd` after the appointment ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import Field
from tortoise.exceptions import IntegrityError

from core import clock, plugins
from core.errors import LinkUnavailable, NotFound
from core.models import Appointment, Location
from core.plugin_types import PluginSettings
from core.tokens import derive_token, looks_like_token, token_hash
from plugins.action_links.models import ActionLink

NAME = "action_links"
PURPOSE = "action-link"
DEFAULT_TEXT = "Click here to view, confirm, reschedule, or cancel your appointment"


class ActionLinkSettings(PluginSettings):
    """Per-location settings of the action links plugin."""

    include_in_emails: bool = True
    link_text: str = Field(DEFAULT_TEXT, min_length=1, max_length=200)
    valid_hours_after_end: int = Field(24, ge=0, le=24 * 365)


@dataclass
class Opened:
    """A link that resolved: its row, its appointment and location, the settings there."""

    link: ActionLink
    appointment: Appointment
    location: Location
    settings: ActionLinkSettings
    token: str
    enabled: frozenset[str]  # plugins enabled at the appointment's location


def _token(appointment_id: int, generation: int) -> str:
    return derive_token(plugins.current().settings.secret_key, PURPOSE, appointment_id, generation)


def url_of(token: str) -> str:
    """The full URL of a link token."""
    return f"{plugins.current().settings.base_url}/action/{token}"


async def token_for(appointment: Appointment) -> str:
    """The current token of an appointment's link, creating the link on first use."""

    row = await ActionLink.get_or_none(appointment_id=appointment.id)
    if row is None:
        token = _token(appointment.id, 0)
        try:
            await ActionLink.create(appointment_id=appointment.id, generation=0, token_hash=token_hash(token))
        except IntegrityError:  # created meanwhile by another request: same token
            pass
        return token
    return _token(appointment.id, row.generation)


async def revoke(appointment: Appointment) -> str:
    """Replace an appointment's link token; the old one becomes unknown. Returns the new token."""

    await token_for(appointment)
    row = await ActionLink.get(appointment_id=appointment.id)
    row.generation += 1
    token = _token(appointment.id, row.generation)
    row.token_hash = token_hash(token)
    await row.save()
    return token


async def open_link(token: str) -> Opened:
    """Resolve a token: `NotFound` when unknown, replaced, or the plugin is off at the
    appointment's location (all alike); `LinkUnavailable` EXPIRED after its validity."""

    if not looks_like_token(token):
        raise NotFound("Link")
    link = await ActionLink.get_or_none(token_hash=token_hash(token))
    if link is None:
        raise NotFound("Link")
    appointment = await Appointment.get(id=link.appointment_id)
    enabled, settings = await plugins.current().enabled_with_settings(NAME, appointment.location_id)
    if NAME not in enabled:
        raise NotFound("Link")
    location = await Location.get(id=appointment.location_id)
    if clock.now() > appointment.ends_at + dt.timedelta(hours=settings.valid_hours_after_end):
        raise LinkUnavailable(
            "EXPIRED", "This link has expired.", owner_name=location.name,
            owner_email=location.contact_email, owner_phone=location.contact_phone, location_id=location.id,
        )
    return Opened(link, appointment, location, settings, token, enabled)
