"""GraphQL for scheduling rules: per location, overridable per service."""

from __future__ import annotations

from dataclasses import fields

import strawberry

from core import locations, services
from core.availability.rules import Rules
from schema.context import Info
from schema.errors import as_result
from schema.inputs import parse_id, provided
from schema.locations import LocationResult
from schema.services import ServiceResult
from schema.text_inputs import MULTILINE
from schema.types import Location, Service


@strawberry.input(description="Only the fields given change.")
class SchedulingRulesInput:
    min_notice_minutes: int | None = strawberry.UNSET
    max_advance_days: int | None = strawberry.UNSET
    same_day_changes_allowed: bool | None = strawberry.UNSET
    cancellation_notice_hours: int | None = strawberry.UNSET
    cancellation_policy: str | None = strawberry.field(default=strawberry.UNSET, directives=[MULTILINE])
    reschedule_notice_hours: int | None = strawberry.UNSET
    max_customer_reschedules: int | None = strawberry.field(default=strawberry.UNSET, description="null: no limit.")
    cancellation_reasons: list[str] | None = strawberry.UNSET
    cancellation_reason_required: bool | None = strawberry.UNSET


@strawberry.input(
    description="Rules this service sets differently from its location; null returns a rule to the location's."
)
class ServiceRulesInput:
    min_notice_minutes: int | None = strawberry.UNSET
    max_advance_days: int | None = strawberry.UNSET
    same_day_changes_allowed: bool | None = strawberry.UNSET
    cancellation_notice_hours: int | None = strawberry.UNSET
    cancellation_policy: str | None = strawberry.field(default=strawberry.UNSET, directives=[MULTILINE])
    reschedule_notice_hours: int | None = strawberry.UNSET
    max_customer_reschedules: int | None = strawberry.UNSET
    cancellation_reasons: list[str] | None = strawberry.UNSET
    cancellation_reason_required: bool | None = strawberry.UNSET


@strawberry.type
class RulesMutation:
    @strawberry.mutation(
        description="Change the scheduling rules of a location (not of a branch sharing its headquarters' settings)."
    )
    @as_result
    async def update_location_rules(
        self, info: Info, location_id: strawberry.ID, input: SchedulingRulesInput
    ) -> LocationResult:
        changes = provided(input, nullable=("max_customer_reschedules",))
        row = await locations.update_rules(await info.context.staff(), parse_id("Location", location_id), **changes)
        return Location.from_model(row)

    @strawberry.mutation(description="Override some of the location's rules for one service.")
    @as_result
    async def update_service_rules(
        self, info: Info, service_id: strawberry.ID, input: ServiceRulesInput
    ) -> ServiceResult:
        changes = provided(input, nullable=tuple(f.name for f in fields(Rules)))
        row = await services.update_service_rules(
            await info.context.staff(), parse_id("Service", service_id), **changes
        )
        return Service.from_model(row)
