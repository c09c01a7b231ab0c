"""One-time links: create, list, revoke (staff); resolve, show slots and book (customers). The
link is claimed inside the booking's transaction, so either both happen or neither. A link keeps
the secret key it was made with while that key is held (core/security/tokens.py explains key rotation)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from tortoise.expressions import Q

from core import booking, clock, validation as check
from core.agendum import Agendum
from core.availability.budget import Charge
from core.availability.cost import estimate
from core.availability.slots import Slot, check_window, slots_for
from core.calendars import get_calendar
from core.errors import LinkUnavailable, NotFound, ValidationCode, ValidationFailed
from core.models import ActorKind, Appointment, Calendar, Location, Service
from core.pagination import Page, Paging, keyset_page
from core.security.access import Actor, Staff
from core.security.ratelimit import count_link_attempt
from core.security.tokens import derive_token, is_derived, looks_like_token, shown_token, token_hash
from core.settings import Settings
from plugins.one_time_links.models import LinkState, OneTimeLink

NAME = "one_time_links"
PURPOSE = "one-time-link"
MESSAGES = {
    "USED": "This link has already been used.",
    "EXPIRED": "This link has expired.",
    "REVOKED": "This link is no longer valid.",
}


class Status(str, Enum):
    """A link's status as staff and customers see it."""

    ACTIVE = "ACTIVE"
    USED = "USED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


def status_of(link) -> Status:
    """ACTIVE, USED, REVOKED as stored; an active link past `expires_at` is EXPIRED."""
    if link.state.value == "ACTIVE" and link.expires_at is not None and link.expires_at <= clock.now():
        return Status.EXPIRED
    return Status(link.state.value)


async def token_of(settings: Settings, link) -> str:
    """The link's token (derived with the app's secret keys: shown again any time, never stored).
    A new link, or one whose secret key was dropped from the fallbacks, is given a token of the
    current key."""
    keys = settings.secret_keys
    token = shown_token(keys, link.token_hash, PURPOSE, link.id)
    if token is None:
        token = derive_token(keys[0], PURPOSE, link.id)
        link.token_hash = token_hash(token)
        await OneTimeLink.filter(id=link.id).update(token_hash=link.token_hash)
    return token


async def url_of(settings: Settings, link) -> str:
    """The full booking URL of a link (the app's base URL)."""
    return f"{settings.base_url}/book/{await token_of(settings, link)}"


async def create(
    settings: Settings,
    actor: Staff | None,
    calendar_id: int,
    service_ids: list[int] | None,
    expires_at: dt.datetime | None,
    note: str,
):
    """A new active link for a calendar (default services: the calendar's bookable online ones)."""

    calendar = await get_calendar(actor, calendar_id)
    provided = {s.id: s for s in await Service.filter(calendars__id=calendar.id)}
    if service_ids is None:
        chosen = sorted(sid for sid, s in provided.items() if s.bookable_online)
    else:
        chosen = sorted(set(service_ids))
        problems = check.Problems()
        for index, sid in enumerate(service_ids):
            if sid not in provided:
                problems.add(
                    f"serviceIds[{index}]",
                    f"Service {sid} is not provided by this calendar.",
                    ValidationCode.INVALID_CHOICE,
                )
        problems.raise_any()
    if not chosen:
        raise ValidationFailed(
            "serviceIds", "The link needs at least one service the calendar provides.", ValidationCode.REQUIRED
        )
    if expires_at is not None and check.instant("expiresAt", expires_at) <= clock.now():
        raise ValidationFailed("expiresAt", "The expiry must be in the future.", ValidationCode.OUT_OF_RANGE)
    if len(note) > 500:
        raise ValidationFailed("note", "At most 500 characters.", ValidationCode.TOO_LONG)
    link = await OneTimeLink.create(
        calendar_id=calendar.id,
        location_id=calendar.location_id,
        service_ids=chosen,
        expires_at=expires_at,
        note=note.strip(),
        token_hash=f"pending-{uuid.uuid4().hex}",
        created_by=str(actor.user_id),
    )
    await token_of(settings, link)  # its pending hash matches no key: the link gets its token
    return link


async def page(actor: Staff | None, calendar_id: int, statuses: Collection[Status] | None, paging: Paging) -> Page:
    """A page of a calendar's links, newest first, optionally of the given statuses."""
    calendar = await get_calendar(actor, calendar_id)
    query = OneTimeLink.filter(calendar_id=calendar.id)
    if statuses is not None:
        now = clock.now()
        query = query.filter(
            Q(*(_status_is(status, now) for status in statuses), join_type="OR") if statuses else Q(id__in=[])
        )
    return await keyset_page(query, ("id",), paging, descending=True)


def _status_is(status: Status, now: dt.datetime) -> Q:
    """The links that show `status` at `now`."""
    if status is Status.EXPIRED:
        return Q(state=LinkState.ACTIVE, expires_at__lte=now)
    if status is Status.ACTIVE:
        return Q(Q(expires_at__isnull=True) | Q(expires_at__gt=now), state=LinkState.ACTIVE)
    return Q(state=LinkState(status.value))


async def get_link(actor: Staff | None, link_id: int):
    """A link in the caller's scope, or NotFound / PermissionDenied."""

    link = await OneTimeLink.get_or_none(id=link_id)
    if link is None:
        raise NotFound("OneTimeLink", link_id)
    await get_calendar(actor, link.calendar_id)
    return link


async def revoke(actor: Staff | None, link_id: int):
    """Mark a link REVOKED (it stays listed; its URL answers 410)."""

    link = await get_link(actor, link_id)
    if link.state is LinkState.ACTIVE:
        link.state = LinkState.REVOKED
        await link.save(update_fields=["state"])
    return link


@dataclass
class Opened:
    """A resolved link with its calendar, location and allowed services, in the app it was opened in."""

    app: Agendum
    link: object
    calendar: Calendar
    location: Location
    services: list[Service]
    status: Status

    def unavailable(self) -> LinkUnavailable:
        """The refusal for a link that is not active, with the calendar owner's contact."""
        return LinkUnavailable(
            self.status.value,
            f"{MESSAGES[self.status.value]} Please contact {self.calendar.owner_name or self.location.name} to book.",
            owner_name=self.calendar.owner_name or self.location.name,
            owner_email=self.calendar.owner_email or self.location.contact_email,
            owner_phone=self.calendar.owner_phone or self.location.contact_phone,
            location_id=self.location.id,
        )

    def service(self, service_id: int) -> Service:
        """One of the link's services, or ValidationFailed."""
        for service in self.services:
            if service.id == service_id:
                return service
        raise ValidationFailed("serviceId", "This link does not offer that service.", ValidationCode.INVALID_CHOICE)


async def resolve(app: Agendum, token: str, client_ip: str, limiter) -> Opened:
    """Count the attempt, then the link of a token: NotFound when unknown or the plugin is off
    at its location (both alike)."""

    settings = app.settings
    await count_link_attempt(limiter, settings, "one-time-link", token, client_ip)
    if not looks_like_token(token):
        raise NotFound("Link")
    link = await OneTimeLink.get_or_none(token_hash=token_hash(token))
    if link is None or not is_derived(settings.secret_keys, token, PURPOSE, link.id):
        raise NotFound("Link")  # unknown, or made with a secret key no longer held
    if NAME not in await app.plugins.enabled_names(link.location_id):
        raise NotFound("Link")
    services = await Service.filter(id__in=link.service_ids, location_id=link.location_id).order_by("name", "id")
    return Opened(
        app,
        link,
        await Calendar.get(id=link.calendar_id),
        await Location.get(id=link.location_id),
        list(services),
        status_of(link),
    )


async def free_slots(
    opened: Opened, service_id: int, start: dt.datetime, end: dt.datetime, charge: Charge
) -> list[Slot]:
    """Free slots of one of the link's services on its calendar; their cost is charged before
    any is computed."""
    if opened.status is not Status.ACTIVE:
        raise opened.unavailable()
    service = opened.service(service_id)
    check_window(start, end)
    await charge(await estimate(opened.location, [opened.calendar.id], start, end))
    return await slots_for(opened.location, opened.calendar, service, start, end)


async def book(
    opened: Opened, service_id: int, start: dt.datetime, contact: dict, ip: str, user_agent: str
) -> Appointment:
    """Book through the link: the link is claimed in the booking's transaction (the first
    statement after the calendar lock), so only one booking ever uses it."""

    if opened.status is not Status.ACTIVE:
        raise opened.unavailable()
    service = opened.service(service_id)
    link_id = opened.link.id

    async def claim() -> None:
        now = clock.now()
        claimed = await OneTimeLink.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), id=link_id, state=LinkState.ACTIVE
        ).update(state=LinkState.USED, used_at=now)
        if not claimed:
            fresh = await OneTimeLink.get(id=link_id)
            raise Opened(
                opened.app, fresh, opened.calendar, opened.location, opened.services, status_of(fresh)
            ).unavailable()

    async def attach(appointment: Appointment) -> None:
        await OneTimeLink.filter(id=link_id).update(appointment_id=appointment.id)

    actor = Actor(ActorKind.ONE_TIME_LINK, id=f"one-time-link:{link_id}", ip=ip, user_agent=user_agent)
    return await booking.book(
        opened.app.plugins,
        actor,
        calendar_id=opened.calendar.id,
        service_id=service.id,
        start=start,
        contact=contact,
        steps=[claim],
        after=[attach],
    )
