"""GraphQL for appointments: reading, free slots, and the staff side of the booking path."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry
from strawberry.dataloader import DataLoader

from core import appointments, booking, errors as core_errors, models
from core.availability import grid
from core.availability.rules import RULE_CODES
from core.pagination import Paging
from core.security.access import Actor
from schema.context import Info
from schema.errors import CODE, CONVERTERS, Problem, QueryTooCostly, as_result
from schema.inputs import one_or_list, parse_id, parse_ids, result
from schema.limits import slot_field
from schema.plugins import Link
from schema.problem_codes import ErrorCode
from schema.text_inputs import MULTILINE_ARGUMENT
from schema.types import Calendar, Connection, Customer, Location, Service

AppointmentStatus = strawberry.enum(
    models.AppointmentStatus, description="Every status but CANCELLED occupies its time."
)
ActorKind = strawberry.enum(models.ActorKind, description="Who made a change, through which channel.")


async def calendar_of(info: Info, calendar_id: int) -> Calendar:
    """A calendar by id, through the request's loader."""
    return Calendar.from_model(await info.context.loaders.by_id(models.Calendar).load(calendar_id))


async def service_of(info: Info, service_id: int) -> Service:
    """A service by id, through the request's loader."""
    return Service.from_model(await info.context.loaders.by_id(models.Service).load(service_id))


@strawberry.type(description="The time is taken, or the calendar is not working then.")
class SlotUnavailable(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.SLOT_UNAVAILABLE, description=CODE)


@strawberry.type(
    description="A scheduling rule refuses the change. `code`: one of core's rule codes (MIN_NOTICE, MAX_ADVANCE, SAME_DAY_CHANGE, CANCELLATION_NOTICE, RESCHEDULE_NOTICE, MAX_RESCHEDULES), or PLUGIN_RULE for a plugin's rule. `rule`: the rule's code as text, core's or the plugin's own (e.g. NEW_CLIENTS_NOT_ACCEPTED)."
)
class RuleViolation(Problem):
    rule: str
    code: ErrorCode = strawberry.field(
        default=ErrorCode.PLUGIN_RULE,
        description="The rule's code if it is one of core's rules, else PLUGIN_RULE (see `rule`).",
    )


@strawberry.type(description="The appointment's status does not allow this action.")
class InvalidTransition(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.INVALID_TRANSITION, description=CODE)
    status: AppointmentStatus
    action: str


@strawberry.type(description="The appointment changed since you read it; `currentSequence` is its sequence now.")
class StaleAppointment(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.STALE_APPOINTMENT, description=CODE)
    current_sequence: int


CONVERTERS.update(
    {
        core_errors.SlotUnavailable: lambda e: SlotUnavailable(message=e.message),
        core_errors.RuleViolation: lambda e: RuleViolation(
            message=e.message, rule=e.rule, code=ErrorCode[e.rule] if e.rule in RULE_CODES else ErrorCode.PLUGIN_RULE
        ),
        core_errors.InvalidTransition: lambda e: InvalidTransition(
            message=e.message, status=models.AppointmentStatus(e.status), action=e.action
        ),
        core_errors.StaleAppointment: lambda e: StaleAppointment(
            message=e.message, current_sequence=e.current_sequence
        ),
    }
)


FIELD_ORDER = ["status", "startsAt", "endsAt", "sequence", "cancellationReason", "cancellationNote"]
INSTANTS = frozenset({"startsAt", "endsAt"})  # recorded in UTC (core.booking.snapshot)


@strawberry.type(
    description="One field of an appointment before and after a change. Times (startsAt, endsAt) are ISO 8601 with the location's offset, like `at`."
)
class FieldChange:
    field: str
    before: str | None
    after: str | None


@strawberry.type(description="A change of an appointment: when, by whom, from where, what changed.")
class AppointmentEvent:
    at: dt.datetime
    action: str
    actor_kind: ActorKind
    actor: str = strawberry.field(description="The actor's id in its channel (staff user id, link id, ...).")
    ip: str
    user_agent: str
    changes: list[FieldChange]

    @classmethod
    def from_model(cls, m: models.AppointmentEvent, tz: ZoneInfo) -> AppointmentEvent:
        names = sorted(
            set(m.before) | set(m.after), key=lambda n: (FIELD_ORDER.index(n) if n in FIELD_ORDER else 99, n)
        )
        return cls(
            at=m.at.astimezone(tz),
            action=m.action,
            actor_kind=m.actor_kind,
            actor=m.actor_id,
            ip=m.ip,
            user_agent=m.user_agent,
            changes=[
                FieldChange(field=n, before=_text(n, m.before.get(n), tz), after=_text(n, m.after.get(n), tz))
                for n in names
            ],
        )


def _text(name: str, value, tz: ZoneInfo) -> str | None:
    """A recorded value as text; an instant with the location's offset on its date."""
    if value is None:
        return None
    if name in INSTANTS:
        return dt.datetime.fromisoformat(value).astimezone(tz).isoformat()
    return str(value)


@strawberry.type(description="A booking of a service on a calendar for a customer. Times carry the location's offset.")
class Appointment:
    id: strawberry.ID
    status: AppointmentStatus
    starts_at: dt.datetime
    ends_at: dt.datetime
    sequence: int = strawberry.field(description="Bumped on every reschedule; pass it back as expectedSequence.")
    cancellation_reason: str
    cancellation_note: str
    created_at: dt.datetime
    updated_at: dt.datetime
    location_id: strawberry.Private[int]
    calendar_id: strawberry.Private[int]
    service_id: strawberry.Private[int]
    customer_id: strawberry.Private[int]
    tz: strawberry.Private[ZoneInfo]
    row: strawberry.Private[models.Appointment]

    @classmethod
    def from_model(cls, m: models.Appointment, tz: ZoneInfo) -> Appointment:
        return cls(
            id=strawberry.ID(str(m.id)),
            status=m.status,
            starts_at=m.starts_at.astimezone(tz),
            ends_at=m.ends_at.astimezone(tz),
            sequence=m.sequence,
            cancellation_reason=m.cancellation_reason,
            cancellation_note=m.cancellation_note,
            created_at=m.created_at.astimezone(tz),
            updated_at=m.updated_at.astimezone(tz),
            location_id=m.location_id,
            calendar_id=m.calendar_id,
            service_id=m.service_id,
            customer_id=m.customer_id,
            tz=tz,
            row=m,
        )

    @strawberry.field
    async def location(self, info: Info) -> Location:
        return Location.from_model(await info.context.loaders.by_id(models.Location).load(self.location_id))

    @strawberry.field
    async def calendar(self, info: Info) -> Calendar:
        return await calendar_of(info, self.calendar_id)

    @strawberry.field
    async def service(self, info: Info) -> Service:
        return await service_of(info, self.service_id)

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        return Customer.from_model(await info.context.loaders.by_id(models.Customer).load(self.customer_id))

    @strawberry.field(
        description="Links that plugins enabled at the location offer staff for this appointment (e.g. none of the customer's own: their action link signs them in, so staff have it emailed with `sendActionLink`)."
    )
    async def links(self, info: Info) -> list[Link]:
        return await _staff_links(info).load(self.row)

    @strawberry.field(
        description="Every change, oldest first; its times, and the times in its changes, carry the location's offset."
    )
    async def history(self, info: Info) -> list[AppointmentEvent]:
        rows = await info.context.loaders.children(models.AppointmentEvent, "appointment_id", ("at", "id")).load(
            int(self.id)
        )
        return [AppointmentEvent.from_model(r, self.tz) for r in rows]


def _staff_links(info: Info) -> DataLoader[models.Appointment, list[Link]]:
    """`Appointment.links` for all the appointments a request shows: each location's plugin
    activations once per request, and one hook call per plugin and location, whatever the
    number of appointments."""

    async def load(rows: list[models.Appointment]) -> list[list[Link]]:
        by_location: dict[int, list[models.Appointment]] = defaultdict(list)
        for row in rows:
            by_location[row.location_id].append(row)
        activations = await asyncio.gather(*(info.context.activations(location_id) for location_id in by_location))
        found: dict[int, list] = {}
        for batch, rows_there in zip(by_location.values(), activations):
            found.update(await info.context.app.plugins.links(batch, "staff", rows_there))
        return [[Link(kind=link.kind, label=link.label, url=link.url) for link in found[row.id]] for row in rows]

    return info.context.loaders.of("staff links", load)


@strawberry.type(description="A free start and the end of the service booked there.")
class Slot:
    start: dt.datetime
    end: dt.datetime


@strawberry.type
class SlotList:
    slots: list[Slot]


@strawberry.type(description="The free slots of one service on one calendar that provides it.")
class AvailabilityEntry:
    slots: list[Slot]
    calendar_id: strawberry.Private[int]
    service_id: strawberry.Private[int]

    @strawberry.field
    async def calendar(self, info: Info) -> Calendar:
        return await calendar_of(info, self.calendar_id)

    @strawberry.field
    async def service(self, info: Info) -> Service:
        return await service_of(info, self.service_id)


@strawberry.type(description="Free slots of several services on several calendars, by calendar then service.")
class Availability:
    entries: list[AvailabilityEntry]


AppointmentResult = result(
    "AppointmentResult", Appointment, SlotUnavailable, RuleViolation, InvalidTransition, StaleAppointment
)
AppointmentConnectionResult = result("AppointmentConnectionResult", Connection[Appointment])
SlotListResult = result("SlotListResult", SlotList, QueryTooCostly)
AvailabilityResult = result("AvailabilityResult", Availability, QueryTooCostly)
From = Annotated[dt.datetime, strawberry.argument(name="from")]
OptionalFrom = Annotated[dt.datetime | None, strawberry.argument(name="from")]
OVERRIDE = "Staff only: bypass the scheduling rules (never the double-booking check)."


async def _tz(info: Info, location_id: int) -> ZoneInfo:
    return ZoneInfo((await info.context.loaders.by_id(models.Location).load(location_id)).timezone)


async def _actor(info: Info) -> Actor:
    ctx = info.context
    return Actor.for_staff(await ctx.staff(), ctx.client_ip, ctx.user_agent)


async def _view(info: Info, row: models.Appointment) -> Appointment:
    return Appointment.from_model(row, await _tz(info, row.location_id))


@strawberry.input
class BookAppointmentInput:
    calendar_id: strawberry.ID
    service_id: strawberry.ID
    customer_id: strawberry.ID
    start: dt.datetime


@strawberry.type
class AppointmentQuery:
    @strawberry.field
    @as_result
    async def appointment(self, info: Info, id: strawberry.ID) -> AppointmentResult:
        return await _view(
            info, await appointments.get_appointment(await info.context.staff(), parse_id("Appointment", id))
        )

    @strawberry.field(
        description="Appointments of a location by start; `from`/`to` bound the start, or "
        "`fromDate`/`toDate` (inclusive local dates in the location's zone), not both."
    )
    @as_result
    async def appointments(
        self,
        info: Info,
        location_id: strawberry.ID,
        from_: OptionalFrom = None,
        to: dt.datetime | None = None,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
        status: AppointmentStatus | None = None,
        statuses: list[AppointmentStatus] | None = None,
        calendar_id: strawberry.ID | None = None,
        customer_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AppointmentConnectionResult:
        location = parse_id("Location", location_id)
        page = await appointments.appointment_page(
            await info.context.staff(),
            location,
            start=from_,
            end=to,
            from_date=from_date,
            to_date=to_date,
            statuses=one_or_list(status, statuses, "statuses"),
            calendar_id=parse_id("Calendar", calendar_id) if calendar_id else None,
            customer_id=parse_id("Customer", customer_id) if customer_id else None,
            paging=Paging(first, after, last, before),
        )
        tz = await _tz(info, location)
        return Connection[Appointment].of(page, lambda row: Appointment.from_model(row, tz))

    @strawberry.field(
        description="Free slots of a service on a calendar starting in [from, to), or on the local dates "
        "fromDate..toDate (inclusive, in the location's zone); at most 62 days. Priced before any work "
        "against the staff budget (QueryTooCostly)."
    )
    @as_result
    async def available_slots(
        self,
        info: Info,
        calendar_id: strawberry.ID,
        service_id: strawberry.ID,
        from_: OptionalFrom = None,
        to: dt.datetime | None = None,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
    ) -> SlotListResult:
        async with slot_field(info, staff=True) as charge:
            location, slots = await appointments.available_slots(
                await info.context.staff(),
                parse_id("Calendar", calendar_id),
                parse_id("Service", service_id),
                charge,
                start=from_,
                end=to,
                from_date=from_date,
                to_date=to_date,
            )
        tz = ZoneInfo(location.timezone)
        return SlotList(slots=[Slot(start=s.start.astimezone(tz), end=s.end.astimezone(tz)) for s in slots])

    @strawberry.field(
        description="Free slots of several services at once: on every calendar of the location that provides "
        "each (only `calendarIds` when given), starting in [from, to) or on the local dates fromDate..toDate "
        "(inclusive); at most 62 days. All of it priced together before any work against the staff budget "
        "(QueryTooCostly)."
    )
    @as_result
    async def availability(
        self,
        info: Info,
        location_id: strawberry.ID,
        service_ids: list[strawberry.ID],
        calendar_ids: list[strawberry.ID] | None = None,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
        from_: OptionalFrom = None,
        to: dt.datetime | None = None,
    ) -> AvailabilityResult:
        async with slot_field(info, staff=True) as charge:
            location, entries = await grid.availability(
                await info.context.staff(),
                parse_id("Location", location_id),
                parse_ids("Service", service_ids),
                parse_ids("Calendar", calendar_ids),
                charge,
                start=from_,
                end=to,
                from_date=from_date,
                to_date=to_date,
            )
        tz = ZoneInfo(location.timezone)
        return Availability(
            entries=[
                AvailabilityEntry(
                    slots=[Slot(start=s.start.astimezone(tz), end=s.end.astimezone(tz)) for s in entry.slots],
                    calendar_id=entry.calendar.id,
                    service_id=entry.service.id,
                )
                for entry in entries
            ]
        )


@strawberry.type
class AppointmentMutation:
    @strawberry.mutation(description="Book a slot. The rules apply unless `override`.")
    @as_result
    async def book_appointment(
        self,
        info: Info,
        input: BookAppointmentInput,
        override: Annotated[bool, strawberry.argument(description=OVERRIDE)] = False,
    ) -> AppointmentResult:
        row = await booking.book(
            info.context.app.plugins,
            await _actor(info),
            calendar_id=parse_id("Calendar", input.calendar_id),
            service_id=parse_id("Service", input.service_id),
            customer_id=parse_id("Customer", input.customer_id),
            start=input.start,
            override=override,
        )
        return await _view(info, row)

    @strawberry.mutation(description="SCHEDULED becomes CONFIRMED; confirming again changes nothing.")
    @as_result
    async def confirm_appointment(
        self,
        info: Info,
        id: strawberry.ID,
        override: Annotated[bool, strawberry.argument(description=OVERRIDE)] = False,
    ) -> AppointmentResult:
        return await _view(
            info,
            await booking.confirm(info.context.app.plugins, await _actor(info), parse_id("Appointment", id), override),
        )

    @strawberry.mutation(
        description="Staff move an appointment on its calendar (the same appointment; `sequence` goes up by one): it becomes SCHEDULED for the customer to confirm. A customer's own reschedule (through their action link) leaves it CONFIRMED instead: they chose the time."
    )
    @as_result
    async def reschedule_appointment(
        self,
        info: Info,
        id: strawberry.ID,
        start: dt.datetime,
        expected_sequence: int | None = None,
        override: Annotated[bool, strawberry.argument(description=OVERRIDE)] = False,
    ) -> AppointmentResult:
        row = await booking.reschedule(
            info.context.app.plugins,
            await _actor(info),
            parse_id("Appointment", id),
            start,
            expected_sequence,
            override,
        )
        return await _view(info, row)

    @strawberry.mutation(description="Cancel; `reason` from the location's cancellation reasons when it has a list.")
    @as_result
    async def cancel_appointment(
        self,
        info: Info,
        id: strawberry.ID,
        reason: str | None = None,
        note: Annotated[str | None, MULTILINE_ARGUMENT] = None,
        override: Annotated[bool, strawberry.argument(description=OVERRIDE)] = False,
    ) -> AppointmentResult:
        row = await booking.cancel(
            info.context.app.plugins, await _actor(info), parse_id("Appointment", id), reason, note or "", override
        )
        return await _view(info, row)

    @strawberry.mutation(description="Mark an appointment that has started as completed.")
    @as_result
    async def mark_appointment_completed(self, info: Info, id: strawberry.ID) -> AppointmentResult:
        row = await booking.mark(
            info.context.app.plugins,
            await _actor(info),
            parse_id("Appointment", id),
            models.AppointmentStatus.COMPLETED,
        )
        return await _view(info, row)

    @strawberry.mutation(description="Mark an appointment that has started as a no-show.")
    @as_result
    async def mark_appointment_no_show(self, info: Info, id: strawberry.ID) -> AppointmentResult:
        row = await booking.mark(
            info.context.app.plugins, await _actor(info), parse_id("Appointment", id), models.AppointmentStatus.NO_SHOW
        )
        return await _view(info, row)
