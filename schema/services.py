"""GraphQL for services."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from core import services
from core.pagination import Paging
from schema.context import Info
from schema.errors import as_result
from schema.inputs import parse_id, parse_ids, provided, result
from schema.types import Connection, Service

ServiceResult = result("ServiceResult", Service)
ServiceConnectionResult = result("ServiceConnectionResult", Connection[Service])


@strawberry.input
class CreateServiceInput:
    location_id: strawberry.ID
    name: str
    duration_minutes: int
    price: Decimal = Decimal("0")
    buffer_after_minutes: int = 0
    bookable_online: bool = True
    calendar_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change; calendarIds replaces the list.")
class UpdateServiceInput:
    name: str | None = strawberry.UNSET
    duration_minutes: int | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    buffer_after_minutes: int | None = strawberry.UNSET
    bookable_online: bool | None = strawberry.UNSET
    calendar_ids: list[strawberry.ID] | None = strawberry.UNSET


def _core_fields(data) -> dict:
    fields = provided(data)
    if "calendar_ids" in fields:
        fields["calendar_ids"] = parse_ids("Calendar", fields["calendar_ids"])
    return fields


@strawberry.type
class ServiceQuery:
    @strawberry.field(description="Services of a location, by name.")
    @as_result
    async def services(
        self,
        info: Info,
        location_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ServiceConnectionResult:
        page = await services.service_page(
            await info.context.staff(), parse_id("Location", location_id), Paging(first, after, last, before)
        )
        return Connection[Service].of(page, Service.from_model)


@strawberry.type
class ServiceMutation:
    @strawberry.mutation
    @as_result
    async def create_service(self, info: Info, input: CreateServiceInput) -> ServiceResult:
        fields = _core_fields(input)
        location_id = parse_id("Location", fields.pop("location_id"))
        return Service.from_model(await services.create_service(await info.context.staff(), location_id, **fields))

    @strawberry.mutation
    @as_result
    async def update_service(self, info: Info, id: strawberry.ID, input: UpdateServiceInput) -> ServiceResult:
        row = await services.update_service(await info.context.staff(), parse_id("Service", id), **_core_fields(input))
        return Service.from_model(row)
