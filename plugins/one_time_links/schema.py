"""GraphQL of one-time links: staff create, list and revoke; customers (single-page frontends)
read a link, its free slots, and book through it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry

from core.errors import NotFound as Missing
from core.models import (
    Appointment as AppointmentRow,
    Calendar as CalendarRow,
    Location as LocationRow,
    Service as ServiceRow,
)
from core.pagination import Paging
from plugins.one_time_links import links
from plugins.one_time_links.models import OneTimeLink as LinkRow
from schema.appointments import Appointment, RuleViolation, Slot, SlotList, SlotUnavailable
from schema.context import Info
from schema.errors import NotFound, PermissionDenied, QueryTooCostly, RateLimited, ValidationError, as_result
from schema.inputs import one_or_list, parse_id, parse_ids
from schema.limits import slot_field
from schema.plugins import LinkUnavailable, PluginDisabled, gated
from schema.text_inputs import MULTILINE
from schema.types import Connection

OneTimeLinkStatus = strawberry.enum(
    links.Status, name="OneTimeLinkStatus", description="ACTIVE until used, expired or revoked."
)
From = Annotated[dt.datetime, strawberry.argument(name="from")]


async def _url(root: OneTimeLink, info: Info) -> str:
    return await links.url_of(info.context.settings, root.row)


@strawberry.type(description="A single-use booking link for a calendar.")
class OneTimeLink:
    id: strawberry.ID
    url: str = strawberry.field(resolver=_url, description="The full link to send; shown again any time.")
    status: OneTimeLinkStatus
    note: str
    created_at: dt.datetime
    created_by: str = strawberry.field(description="Id of the staff user who created it.")
    expires_at: dt.datetime | None
    used_at: dt.datetime | None
    service_ids: list[strawberry.ID]
    appointment_id: strawberry.Private[int | None]
    location_id: strawberry.Private[int]
    row: strawberry.Private[LinkRow]

    @classmethod
    def of(cls, row) -> OneTimeLink:
        return cls(
            id=strawberry.ID(str(row.id)),
            row=row,
            status=links.status_of(row),
            note=row.note,
            created_at=row.created_at,
            created_by=row.created_by,
            expires_at=row.expires_at,
            used_at=row.used_at,
            service_ids=[strawberry.ID(str(s)) for s in row.service_ids],
            appointment_id=row.appointment_id,
            location_id=row.location_id,
        )

    @strawberry.field(description="The appointment booked through it, once used.")
    async def appointment(self, info: Info) -> Appointment | None:
        if self.appointment_id is None:
            return None
        row = await info.context.loaders.by_id(AppointmentRow).load(self.appointment_id)
        if row is None:
            return None
        location = await info.context.loaders.by_id(LocationRow).load(row.location_id)
        return Appointment.from_model(row, ZoneInfo(location.timezone))


@strawberry.type(description="A service a one-time link offers.")
class OneTimeLinkService:
    id: strawberry.ID
    name: str
    duration_minutes: int
    price: Decimal


@strawberry.type(description="A one-time link as the person it was sent to sees it.")
class OneTimeLinkView:
    status: OneTimeLinkStatus
    calendar_name: str
    location_name: str
    timezone: str
    services: list[OneTimeLinkService]
    owner_name: str | None = strawberry.field(description="Whom to contact, when the link is no longer active.")
    owner_email: str | None
    owner_phone: str | None
    unavailable_message: str | None = strawberry.field(description="Why the link cannot be used, when it cannot.")


@strawberry.type(description="The appointment booked through a one-time link.")
class OneTimeBooking:
    starts_at: dt.datetime
    ends_at: dt.datetime
    service_name: str
    calendar_name: str
    location_name: str


@strawberry.input
class CreateOneTimeLinkInput:
    calendar_id: strawberry.ID
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Default: the calendar's services bookable online."
    )
    expires_at: dt.datetime | None = strawberry.field(default=None, description="None: never expires.")
    note: str = strawberry.field(default="", directives=[MULTILINE])


@strawberry.input
class BookViaOneTimeLinkInput:
    service_id: strawberry.ID
    start: dt.datetime
    first_name: str
    last_name: str
    email: str
    mobile_phone: str = ""


OneTimeLinkResult = Annotated[
    OneTimeLink | PluginDisabled | ValidationError | NotFound | PermissionDenied, strawberry.union("OneTimeLinkResult")
]
OneTimeLinkConnectionResult = Annotated[
    Connection[OneTimeLink] | PluginDisabled | ValidationError | NotFound | PermissionDenied,
    strawberry.union("OneTimeLinkConnectionResult"),
]
OneTimeLinkViewResult = Annotated[OneTimeLinkView | NotFound | RateLimited, strawberry.union("OneTimeLinkViewResult")]
OneTimeLinkSlotsResult = Annotated[
    SlotList | LinkUnavailable | NotFound | RateLimited | ValidationError | QueryTooCostly,
    strawberry.union("OneTimeLinkSlotsResult"),
]
BookViaOneTimeLinkResult = Annotated[
    OneTimeBooking | LinkUnavailable | NotFound | RateLimited | SlotUnavailable | RuleViolation | ValidationError,
    strawberry.union("BookViaOneTimeLinkResult"),
]


async def _calendar_location(calendar_id) -> int:
    row = await CalendarRow.get_or_none(id=parse_id("Calendar", calendar_id))
    if row is None:
        raise Missing("Calendar", calendar_id)
    return row.location_id


async def _link_location(id) -> int:
    row = await LinkRow.get_or_none(id=parse_id("OneTimeLink", id))
    if row is None:
        raise Missing("OneTimeLink", id)
    return row.location_id


async def _open(info: Info, token: str) -> links.Opened:
    return await links.resolve(info.context.app, token, info.context.client_ip, info.context.limiter)


@strawberry.type
class OneTimeLinkQuery:
    @strawberry.field(description="Staff: a calendar's one-time links, newest first.")
    @as_result
    @gated(links.NAME, lambda calendar_id: _calendar_location(calendar_id))
    async def one_time_links(
        self,
        info: Info,
        calendar_id: strawberry.ID,
        status: OneTimeLinkStatus | None = None,
        statuses: list[OneTimeLinkStatus] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> OneTimeLinkConnectionResult:
        page = await links.page(
            await info.context.staff(),
            parse_id("Calendar", calendar_id),
            one_or_list(status, statuses, "statuses"),
            Paging(first, after, last, before),
        )
        return Connection[OneTimeLink].of(page, OneTimeLink.of)

    @strawberry.field(description="A one-time link by its token: the calendar, location, services and status.")
    @as_result
    async def one_time_link(self, info: Info, token: str) -> OneTimeLinkViewResult:
        opened = await _open(info, token)
        inactive = opened.unavailable() if opened.status is not links.Status.ACTIVE else None
        return OneTimeLinkView(
            status=opened.status,
            calendar_name=opened.calendar.name,
            location_name=opened.location.name,
            timezone=opened.location.timezone,
            services=[
                OneTimeLinkService(
                    id=strawberry.ID(str(s.id)), name=s.name, duration_minutes=s.duration_minutes, price=s.price
                )
                for s in opened.services
            ],
            owner_name=inactive.owner_name if inactive else None,
            owner_email=inactive.owner_email if inactive else None,
            owner_phone=inactive.owner_phone if inactive else None,
            unavailable_message=inactive.message if inactive else None,
        )

    @strawberry.field(
        description="Free slots of one of the link's services, starting in [from, to). Priced before any work (QueryTooCostly over the request's budget) and counted toward the client's per-IP slot limit."
    )
    @as_result
    async def one_time_link_slots(
        self, info: Info, token: str, service_id: strawberry.ID, from_: From, to: dt.datetime
    ) -> OneTimeLinkSlotsResult:
        async with slot_field(info) as charge:
            opened = await _open(info, token)
            slots = await links.free_slots(opened, parse_id("Service", service_id), from_, to, charge)
        tz = ZoneInfo(opened.location.timezone)
        return SlotList(slots=[Slot(start=s.start.astimezone(tz), end=s.end.astimezone(tz)) for s in slots])


@strawberry.type
class OneTimeLinkMutation:
    @strawberry.mutation(description="Staff: a new single-use booking link for a calendar.")
    @as_result
    @gated(links.NAME, lambda input: _calendar_location(input.calendar_id))
    async def create_one_time_link(self, info: Info, input: CreateOneTimeLinkInput) -> OneTimeLinkResult:
        row = await links.create(
            info.context.settings,
            await info.context.staff(),
            parse_id("Calendar", input.calendar_id),
            parse_ids("Service", input.service_ids),
            input.expires_at,
            input.note,
        )
        return OneTimeLink.of(row)

    @strawberry.mutation(
        description="Staff: revoke a link; it stays listed and its URL answers that it is no longer valid."
    )
    @as_result
    @gated(links.NAME, lambda id: _link_location(id))
    async def revoke_one_time_link(self, info: Info, id: strawberry.ID) -> OneTimeLinkResult:
        return OneTimeLink.of(await links.revoke(await info.context.staff(), parse_id("OneTimeLink", id)))

    @strawberry.mutation(description="Book through a one-time link; the first booking uses it up.")
    @as_result
    async def book_via_one_time_link(
        self, info: Info, token: str, input: BookViaOneTimeLinkInput
    ) -> BookViaOneTimeLinkResult:
        opened = await _open(info, token)
        contact = {
            "first_name": input.first_name,
            "last_name": input.last_name,
            "email": input.email,
            "mobile_phone": input.mobile_phone,
        }
        row = await links.book(
            opened,
            parse_id("Service", input.service_id),
            input.start,
            contact,
            info.context.client_ip,
            info.context.user_agent,
        )
        tz = ZoneInfo(opened.location.timezone)
        service = await ServiceRow.get(id=row.service_id)
        return OneTimeBooking(
            starts_at=row.starts_at.astimezone(tz),
            ends_at=row.ends_at.astimezone(tz),
            service_name=service.name,
            calendar_name=opened.calendar.name,
            location_name=opened.location.name,
        )
