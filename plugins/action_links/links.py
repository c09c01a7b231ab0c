"""Action link tokens: derived per appointment and generation, looked up by hash, expiring
`validHoursAfterEnd` after the appointment ends. A link keeps the secret key it was made with
while that key is held (core/security/tokens.py explains key rotation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import Field

from core import clock
from core.agendum import Agendum
from core.appointment_loads import appointment_via
from core.errors import LinkUnavailable, NotFound
from core.models import Appointment, Calendar, Location, PluginActivation, Service
from core.plugins.types import PluginSettings
from core.security.tokens import derive_token, is_derived, looks_like_token, shown_token, token_hash
from core.settings import Settings
from core.validation import whole_number
from plugins.action_links.models import ActionLink

NAME = "action_links"
PURPOSE = "action-link"
SECRET_KIND = "action_link"  # an email's reference to an appointment's link (core.email.secrets)
DEFAULT_TEXT = "Click here to view, confirm, reschedule, or cancel your appointment"


class ActionLinkSettings(PluginSettings):
    """Per-location settings of the action links plugin."""

    include_in_emails: bool = True
    link_text: str = Field(DEFAULT_TEXT, min_length=1, max_length=200)
    valid_hours_after_end: int = Field(24, ge=0, le=24 * 365)


@dataclass
class Opened:
    """A link that resolved: its row, its appointment with location, service and calendar, the
    settings there, and the app it was opened in."""

    app: Agendum
    link: ActionLink
    appointment: Appointment
    location: Location
    service: Service
    calendar: Calendar
    settings: ActionLinkSettings
    token: str
    activations: list[PluginActivation]  # of the appointment's location: its allow-list, the plugins' settings


def expires_at(appointment: Appointment, settings: ActionLinkSettings) -> dt.datetime:
    """When an appointment's link stops working: `validHoursAfterEnd` after the appointment ends."""
    return appointment.ends_at + dt.timedelta(hours=settings.valid_hours_after_end)


def origin_of(link: ActionLink) -> str:
    """How a plugin offering a link on this link's page names it, to ask later whether it still works."""
    return f"{NAME}:{link.id}:{link.generation}"


async def is_live(app: Agendum, origin: str) -> bool | None:
    """Whether the link an origin names still works (not replaced, not expired); None for other
    plugins' origins."""
    name, _, rest = origin.partition(":")
    if name != NAME:
        return None
    link_id, _, generation = rest.partition(":")
    link = await ActionLink.get_or_none(id=whole_number(link_id) or 0)
    if link is None or link.generation != whole_number(generation):
        return False
    appointment = await Appointment.get(id=link.appointment_id)
    return clock.now() <= expires_at(appointment, await app.plugins.settings_of(NAME, appointment.location_id))


def _token(settings: Settings, appointment_id: int, generation: int) -> str:
    return derive_token(settings.secret_keys[0], PURPOSE, appointment_id, generation)


def url_of(settings: Settings, token: str) -> str:
    """The full URL of a link token (the app's base URL)."""
    return f"{settings.base_url}/action/{token}"


async def tokens_for(settings: Settings, appointments: Iterable[Appointment]) -> dict[int, str]:
    """The current token of each appointment's link, by appointment id: one query, and one more
    creating the links that do not exist yet (a link made meanwhile by another request is kept:
    a new link's token is the same). A link shows the token of the held key it was made with; one
    whose key was dropped from the fallbacks gets a token of the current key."""
    ids = list(dict.fromkeys(appointment.id for appointment in appointments))
    rows = (
        await ActionLink.filter(appointment_id__in=ids).values_list("appointment_id", "generation", "token_hash")
        if ids
        else []
    )
    stored = {appointment_id: (generation, hashed) for appointment_id, generation, hashed in rows}
    missing = [i for i in ids if i not in stored]
    if missing:
        await ActionLink.bulk_create(
            [
                ActionLink(appointment_id=i, generation=0, token_hash=token_hash(_token(settings, i, 0)))
                for i in missing
            ],
            ignore_conflicts=True,
        )
    tokens = {i: _token(settings, i, 0) for i in missing}
    for i, (generation, hashed) in stored.items():
        tokens[i] = shown_token(settings.secret_keys, hashed, PURPOSE, i, generation) or await _rekey(
            settings, i, generation
        )
    return {i: tokens[i] for i in ids}


async def _rekey(settings: Settings, appointment_id: int, generation: int) -> str:
    """Give a link whose secret key was dropped the token of the current key."""
    token = _token(settings, appointment_id, generation)
    await ActionLink.filter(appointment_id=appointment_id, generation=generation).update(token_hash=token_hash(token))
    return token


async def link_urls(references: list[str], app: Agendum) -> dict[str, str]:
    """The URLs of the links emails refer to by their appointments' ids, as they are sent: each
    appointment's current token (a revoked link's emails carry its replacement); none for an
    appointment that is gone. A few statements for a whole batch."""
    ids = {number for number in map(whole_number, references) if number}
    appointments = await Appointment.filter(id__in=ids).only("id") if ids else []
    return {str(i): url_of(app.settings, token) for i, token in (await tokens_for(app.settings, appointments)).items()}


async def token_for(settings: Settings, appointment: Appointment) -> str:
    """The current token of an appointment's link, creating the link on first use."""
    return (await tokens_for(settings, [appointment]))[appointment.id]


async def revoke(settings: Settings, appointment: Appointment) -> str:
    """Replace an appointment's link token; the old one becomes unknown. Returns the new token."""

    await token_for(settings, appointment)
    row = await ActionLink.get(appointment_id=appointment.id)
    row.generation += 1
    token = _token(settings, appointment.id, row.generation)
    row.token_hash = token_hash(token)
    await row.save()
    return token


async def open_link(app: Agendum, token: str) -> Opened:
    """Resolve a token: `NotFound` when unknown, replaced, or the plugin is off at the
    appointment's location (all alike); `LinkUnavailable` EXPIRED after its validity."""

    if not looks_like_token(token):
        raise NotFound("Link")
    found = await appointment_via(ActionLink, "token_hash", token_hash(token))
    if found is None:
        raise NotFound("Link")
    link, appointment, location, service, calendar, activations = (
        found.via,
        found.appointment,
        found.location,
        found.service,
        found.calendar,
        found.activations,
    )
    if not is_derived(app.settings.secret_keys, token, PURPOSE, appointment.id, link.generation):
        raise NotFound("Link")  # made with a secret key no longer held
    enabled, settings = app.plugins.allow_list_and_settings(NAME, activations)
    if NAME not in enabled:
        raise NotFound("Link")
    if clock.now() > expires_at(appointment, settings):
        raise LinkUnavailable(
            "EXPIRED",
            "This link has expired.",
            owner_name=location.name,
            owner_email=location.contact_email,
            owner_phone=location.contact_phone,
            location_id=location.id,
        )
    return Opened(app, link, appointment, location, service, calendar, settings, token, activations)
