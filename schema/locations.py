"""GraphQL for locations."""

from __future__ import annotations

import strawberry

from core import locations
from core.pagination import Paging
from schema.context import Info
from schema.errors import as_result
from schema.inputs import parse_id, provided, result
from schema.types import Connection, Location, Tier

LocationResult = result("LocationResult", Location)
LocationConnectionResult = result("LocationConnectionResult", Connection[Location])


@strawberry.input
class CreateLocationInput:
    name: str
    timezone: str = strawberry.field(description="IANA timezone, e.g. Europe/London.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    locale: str = "en"
    contact_email: str = ""
    contact_phone: str = ""
    tier: Tier = Tier.FREE
    headquarters_id: strawberry.ID | None = None
    shares_headquarters_settings: bool = False
    slot_step_minutes: int = 15


@strawberry.input(description="Only the fields given change.")
class UpdateLocationInput:
    name: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    locale: str | None = strawberry.UNSET
    contact_email: str | None = strawberry.UNSET
    contact_phone: str | None = strawberry.UNSET
    tier: Tier | None = strawberry.UNSET
    headquarters_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="null makes the location independent."
    )
    shares_headquarters_settings: bool | None = strawberry.UNSET
    slot_step_minutes: int | None = strawberry.UNSET
    background_color: str | None = strawberry.field(
        default=strawberry.UNSET, description="Background colour of customer pages, #rrggbb."
    )


def _core_fields(data) -> dict:
    fields = provided(data, nullable=("headquarters_id",))
    if fields.get("headquarters_id") is not None:
        fields["headquarters_id"] = parse_id("Location", fields["headquarters_id"])
    return fields


@strawberry.type
class LocationQuery:
    @strawberry.field(description="Locations you may see, by name.")
    @as_result
    async def locations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> LocationConnectionResult:
        page = await locations.location_page(await info.context.staff(), Paging(first, after, last, before))
        return Connection[Location].of(page, Location.from_model)

    @strawberry.field
    @as_result
    async def location(self, info: Info, id: strawberry.ID) -> LocationResult:
        return Location.from_model(await locations.get_location(await info.context.staff(), parse_id("Location", id)))


@strawberry.type
class LocationMutation:
    @strawberry.mutation(description="Create a location (owners only).")
    @as_result
    async def create_location(self, info: Info, input: CreateLocationInput) -> LocationResult:
        row = await locations.create_location(await info.context.staff(), **_core_fields(input))
        return Location.from_model(row)

    @strawberry.mutation(description="Change a location; only owners change tier or headquarters.")
    @as_result
    async def update_location(self, info: Info, id: strawberry.ID, input: UpdateLocationInput) -> LocationResult:
        row = await locations.update_location(
            info.context.app.plugins, await info.context.staff(), parse_id("Location", id), **_core_fields(input)
        )
        return Location.from_model(row)
