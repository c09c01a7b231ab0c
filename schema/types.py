"""GraphQL object types of the core domain; relations resolve through DataLoaders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from decimal import Decimal
from enum import Enum
from typing import Annotated, Generic, TypeVar

import strawberry

from core import models
from core.availability.rules import Rules
from core.branding import logo_path_of
from core.validation import format_clock
from schema.context import Info

Tier = strawberry.enum(models.Tier, description="Subscription tier of a location.")
StaffRole = strawberry.enum(models.StaffRole, description="OWNER: every location. MANAGER: the named locations.")
ExceptionKind = strawberry.enum(models.ExceptionKind, description="Time off removes time; extra hours add it.")


@strawberry.enum(description="Day of the week; rosters repeat weekly.")
class Weekday(Enum):
    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


@strawberry.type(description="Rules binding every change, whoever makes it; staff may override them.")
class SchedulingRules:
    min_notice_minutes: int
    max_advance_days: int
    same_day_changes_allowed: bool
    cancellation_notice_hours: int
    cancellation_policy: str
    reschedule_notice_hours: int
    max_customer_reschedules: int | None = strawberry.field(description="null: no limit.")
    cancellation_reasons: list[str]
    cancellation_reason_required: bool

    @classmethod
    def of(cls, rules: Rules) -> SchedulingRules:
        values = asdict(rules)
        values["cancellation_reasons"] = list(rules.cancellation_reasons)
        return cls(**values)


async def _visible(info: Info, location_id: int | None) -> bool:
    staff = await info.context.staff()
    return location_id is not None and staff is not None and staff.may_see(location_id)


@strawberry.type(description="A place where appointments happen, with its own timezone, currency and rules.")
class Location:
    id: strawberry.ID
    name: str
    timezone: str = strawberry.field(description="IANA timezone, e.g. Europe/London.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    locale: str
    contact_email: str
    contact_phone: str
    tier: Tier
    shares_headquarters_settings: bool
    slot_step_minutes: int
    created_at: dt.datetime
    headquarters_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, m: models.Location) -> Location:
        return cls(
            id=strawberry.ID(str(m.id)),
            name=m.name,
            timezone=m.timezone,
            currency=m.currency,
            locale=m.locale,
            contact_email=m.contact_email,
            contact_phone=m.contact_phone,
            tier=m.tier,
            shares_headquarters_settings=m.shares_headquarters_settings,
            slot_step_minutes=m.slot_step_minutes,
            created_at=m.created_at,
            headquarters_id=m.headquarters_id,
        )

    @strawberry.field(description="The headquarters, when this location is a branch you may see.")
    async def headquarters(self, info: Info) -> Location | None:
        if not await _visible(info, self.headquarters_id):
            return None
        row = await info.context.loaders.by_id(models.Location).load(self.headquarters_id)
        return Location.from_model(row) if row else None

    @strawberry.field(description="Branches of this location that you may see.")
    async def branches(self, info: Info) -> list[Location]:
        rows = await info.context.loaders.children(models.Location, "headquarters_id").load(int(self.id))
        return [Location.from_model(r) for r in rows if await _visible(info, r.id)]

    @strawberry.field(
        description="The scheduling rules in force (the headquarters' when this location shares its settings)."
    )
    async def rules(self, info: Info) -> SchedulingRules:
        return SchedulingRules.of(Rules.of(await _settings_source(info, self)))

    @strawberry.field(
        description="Background colour of customer pages, #rrggbb (the headquarters' when this location shares its settings)."
    )
    async def background_color(self, info: Info) -> str:
        return (await _settings_source(info, self)).background_color

    @strawberry.field(
        description="Address of the logo on customer pages (the headquarters' when this location shares its settings); null when there is none."
    )
    async def logo_url(self, info: Info) -> str | None:
        path = logo_path_of(await _settings_source(info, self))
        return None if path is None else info.context.settings.base_url + path

    @strawberry.field(description="Calendars (staff diaries and resources) of this location, by name.")
    async def calendars(self, info: Info) -> list[Calendar]:
        rows = await info.context.loaders.children(models.Calendar, "location_id", ("name", "id")).load(int(self.id))
        return [Calendar.from_model(r) for r in rows]

    @strawberry.field(description="Services of this location, by name.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.children(models.Service, "location_id", ("name", "id")).load(int(self.id))
        return [Service.from_model(r) for r in rows]


async def _settings_source(info: Info, location: Location) -> models.Location:
    """The location row whose settings apply (the headquarters' when shared)."""
    loader = info.context.loaders.by_id(models.Location)
    if location.shares_headquarters_settings and location.headquarters_id:
        return await loader.load(location.headquarters_id)
    return await loader.load(int(location.id))


async def _location(info: Info, location_id: int) -> Location:
    return Location.from_model(await info.context.loaders.by_id(models.Location).load(location_id))


@strawberry.type(
    description="A weekly working window in local wall-clock time (HH:MM); an `end` not after `start` is on the next day."
)
class RosterInterval:
    weekday: Weekday
    start: str
    end: str

    @classmethod
    def from_model(cls, m: models.RosterRule) -> RosterInterval:
        return cls(weekday=Weekday(m.weekday), start=format_clock(m.start_minute), end=format_clock(m.end_minute))


@strawberry.type(description="Time off or extra hours on one local date.")
class CalendarException:
    id: strawberry.ID
    date: dt.date
    start: str
    end: str
    kind: ExceptionKind
    note: str

    @classmethod
    def from_model(cls, m: models.CalendarException) -> CalendarException:
        return cls(
            id=strawberry.ID(str(m.id)),
            date=m.date,
            start=format_clock(m.start_minute),
            end=format_clock(m.end_minute),
            kind=m.kind,
            note=m.note,
        )


@strawberry.type(description="A staff member's diary or a resource: roster, exceptions, services.")
class Calendar:
    id: strawberry.ID
    name: str
    owner_name: str = strawberry.field(description="The diary contact: staff notices go here.")
    owner_email: str
    owner_phone: str
    location_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.Calendar) -> Calendar:
        return cls(
            id=strawberry.ID(str(m.id)),
            name=m.name,
            owner_name=m.owner_name,
            owner_email=m.owner_email,
            owner_phone=m.owner_phone,
            location_id=m.location_id,
        )

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_id)

    @strawberry.field(description="Weekly roster, by weekday and start.")
    async def roster(self, info: Info) -> list[RosterInterval]:
        loader = info.context.loaders.children(models.RosterRule, "calendar_id", ("weekday", "start_minute"))
        return [RosterInterval.from_model(r) for r in await loader.load(int(self.id))]

    @strawberry.field(description="Dated exceptions from `from` (default: today, UTC) for up to a year.")
    async def exceptions(
        self, info: Info, from_: Annotated[dt.date | None, strawberry.argument(name="from")] = None
    ) -> list[CalendarException]:
        start = from_ or dt.datetime.now(dt.UTC).date()
        loader = info.context.loaders.children(
            models.CalendarException,
            "calendar_id",
            ("date", "start_minute"),
            date__gte=start,
            date__lt=start + dt.timedelta(days=366),
        )
        return [CalendarException.from_model(r) for r in await loader.load(int(self.id))]

    @strawberry.field(description="Services this calendar provides, by name.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.related(models.Calendar, "services", ("name", "id")).load(int(self.id))
        return [Service.from_model(r) for r in rows]


@strawberry.type(description="Something customers book: duration, price, buffer, calendars that provide it.")
class Service:
    id: strawberry.ID
    name: str
    duration_minutes: int
    price: Decimal = strawberry.field(description="In the location's currency.")
    buffer_after_minutes: int
    bookable_online: bool
    location_id: strawberry.Private[int]
    rule_overrides: strawberry.Private[dict]

    @classmethod
    def from_model(cls, m: models.Service) -> Service:
        return cls(
            id=strawberry.ID(str(m.id)),
            name=m.name,
            duration_minutes=m.duration_minutes,
            price=m.price,
            buffer_after_minutes=m.buffer_after_minutes,
            bookable_online=m.bookable_online,
            location_id=m.location_id,
            rule_overrides=dict(m.rule_overrides or {}),
        )

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_id)

    @strawberry.field(description="The rules for this service: its location's, with this service's overrides.")
    async def rules(self, info: Info) -> SchedulingRules:
        location = Location.from_model(await info.context.loaders.by_id(models.Location).load(self.location_id))
        return SchedulingRules.of(Rules.of(await _settings_source(info, location), self.rule_overrides))

    @strawberry.field(description="Names of the rules this service overrides.")
    def overridden_rules(self) -> list[str]:
        return sorted(self.rule_overrides)

    @strawberry.field(description="Calendars that provide this service, by name.")
    async def calendars(self, info: Info) -> list[Calendar]:
        rows = await info.context.loaders.related(models.Service, "calendars", ("name", "id")).load(int(self.id))
        return [Calendar.from_model(r) for r in rows]


@strawberry.type(description="A customer of one location.")
class Customer:
    id: strawberry.ID
    first_name: str
    last_name: str
    email: str
    mobile_phone: str
    created_at: dt.datetime
    location_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, m: models.Customer) -> Customer:
        return cls(
            id=strawberry.ID(str(m.id)),
            first_name=m.first_name,
            last_name=m.last_name,
            email=m.email,
            mobile_phone=m.mobile_phone,
            created_at=m.created_at,
            location_id=m.location_id,
        )

    @strawberry.field
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return await _location(info, self.location_id)


@strawberry.type(description="A staff account.")
class StaffUser:
    id: strawberry.ID
    email: str
    name: str
    role: StaffRole
    active: bool

    @classmethod
    def from_model(cls, m: models.StaffUser) -> StaffUser:
        return cls(id=strawberry.ID(str(m.id)), email=m.email, name=m.name, role=m.role, active=m.active)

    @strawberry.field(description="Locations a manager works at (that you may see); empty for owners.")
    async def locations(self, info: Info) -> list[Location]:
        rows = await info.context.loaders.related(models.StaffUser, "locations", ("name", "id")).load(int(self.id))
        return [Location.from_model(r) for r in rows if await _visible(info, r.id)]


@strawberry.type(description="A bearer token: send it as `Authorization: Bearer <token>`. Shown once.")
class StaffSession:
    token: str
    expires_at: dt.datetime
    user: StaffUser


@strawberry.type(description="How many tokens were revoked.")
class RevokedTokens:
    count: int


T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items the list holds with its filters, whatever the cursors and page size. "
        "Counted only when asked for."
    )
    async def total_count(self) -> int:
        return await self.count()

    @classmethod
    def of(cls, page, convert) -> Connection:
        """A connection from a core `Page`, converting each item."""
        edges = [Edge(node=convert(item), cursor=cursor) for item, cursor in zip(page.items, page.cursors)]
        return cls(
            edges=edges,
            count=page.count,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=page.cursors[0] if page.cursors else None,
                end_cursor=page.cursors[-1] if page.cursors else None,
            ),
        )
