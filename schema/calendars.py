"""GraphQL for calendars: details, weekly roster, dated exceptions."""

from __future__ import annotations

import datetime as dt

import strawberry

from core import calendars
from core.pagination import Paging
from schema.context import Info
from schema.errors import as_result
from schema.inputs import parse_id, provided, result
from schema.text_inputs import MULTILINE
from schema.types import Calendar, CalendarException, Connection, ExceptionKind, Weekday

CalendarResult = result("CalendarResult", Calendar)
CalendarExceptionResult = result("CalendarExceptionResult", CalendarException)
CalendarConnectionResult = result("CalendarConnectionResult", Connection[Calendar])


@strawberry.input
class CreateCalendarInput:
    location_id: strawberry.ID
    name: str
    owner_name: str = ""
    owner_email: str = ""
    owner_phone: str = ""


@strawberry.input(description="Only the fields given change.")
class UpdateCalendarInput:
    name: str | None = strawberry.UNSET
    owner_name: str | None = strawberry.UNSET
    owner_email: str | None = strawberry.UNSET
    owner_phone: str | None = strawberry.UNSET


@strawberry.input(
    description=(
        "A weekly working window in local wall-clock time, HH:MM: `start` 00:00 to 23:59, `end` 00:00 to 24:00. "
        "An `end` that is not after `start` means the window ends on the next day (22:00-02:00 is a night shift; "
        "equal times, e.g. 08:00-08:00, are a whole 24 hours). The window belongs to the weekday it starts on. "
        "A dated exception applies to the wall-clock minutes of its own date, whichever day's window they belong to "
        "(time off 00:30-01:30 on Tuesday removes that hour from Monday's 22:00-02:00). Open time that runs on "
        "across midnight offers the slots that span it, daylight-saving nights included, and windows of neighbouring "
        "days that touch or overlap merge. Slots step in real elapsed time from the start of each run of open time "
        "(and from each midnight of a date open all day)."
    )
)
class RosterIntervalInput:
    weekday: Weekday
    start: str
    end: str


@strawberry.input(
    description=(
        "Time off or extra hours on a local date; no times means the whole day (time off only). "
        "It applies to that date's wall-clock minutes, including those of the previous day's night window."
    )
)
class CalendarExceptionInput:
    calendar_id: strawberry.ID
    date: dt.date
    kind: ExceptionKind
    start: str | None = None
    end: str | None = None
    note: str = strawberry.field(default="", directives=[MULTILINE])


@strawberry.type
class CalendarQuery:
    @strawberry.field(description="Calendars of a location, by name.")
    @as_result
    async def calendars(
        self,
        info: Info,
        location_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CalendarConnectionResult:
        page = await calendars.calendar_page(
            await info.context.staff(), parse_id("Location", location_id), Paging(first, after, last, before)
        )
        return Connection[Calendar].of(page, Calendar.from_model)

    @strawberry.field
    @as_result
    async def calendar(self, info: Info, id: strawberry.ID) -> CalendarResult:
        return Calendar.from_model(await calendars.get_calendar(await info.context.staff(), parse_id("Calendar", id)))


@strawberry.type
class CalendarMutation:
    @strawberry.mutation
    @as_result
    async def create_calendar(self, info: Info, input: CreateCalendarInput) -> CalendarResult:
        fields = provided(input)
        location_id = parse_id("Location", fields.pop("location_id"))
        return Calendar.from_model(await calendars.create_calendar(await info.context.staff(), location_id, **fields))

    @strawberry.mutation
    @as_result
    async def update_calendar(self, info: Info, id: strawberry.ID, input: UpdateCalendarInput) -> CalendarResult:
        row = await calendars.update_calendar(await info.context.staff(), parse_id("Calendar", id), **provided(input))
        return Calendar.from_model(row)

    @strawberry.mutation(
        description="Replace the weekly roster; windows starting on one weekday must not overlap (windows of neighbouring days may, and merge)."
    )
    @as_result
    async def set_roster(
        self, info: Info, calendar_id: strawberry.ID, rules: list[RosterIntervalInput]
    ) -> CalendarResult:
        intervals = [calendars.Interval(weekday=r.weekday.value, start=r.start, end=r.end) for r in rules]
        row = await calendars.set_roster(await info.context.staff(), parse_id("Calendar", calendar_id), intervals)
        return Calendar.from_model(row)

    @strawberry.mutation
    @as_result
    async def add_calendar_exception(self, info: Info, input: CalendarExceptionInput) -> CalendarExceptionResult:
        fields = provided(input, nullable=("start", "end"))
        calendar_id = parse_id("Calendar", fields.pop("calendar_id"))
        row = await calendars.add_exception(await info.context.staff(), calendar_id, **fields)
        return CalendarException.from_model(row)

    @strawberry.mutation(description="Remove a dated exception; returns its calendar.")
    @as_result
    async def remove_calendar_exception(self, info: Info, id: strawberry.ID) -> CalendarResult:
        row = await calendars.remove_exception(await info.context.staff(), parse_id("CalendarException", id))
        return Calendar.from_model(row)
