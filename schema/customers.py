"""GraphQL for customers."""

from __future__ import annotations

import strawberry

from core import customers
from core.pagination import Paging
from schema.context import Info
from schema.errors import as_result
from schema.inputs import parse_id, provided, result
from schema.types import Connection, Customer

CustomerResult = result("CustomerResult", Customer)
CustomerConnectionResult = result("CustomerConnectionResult", Connection[Customer])


@strawberry.input
class CreateCustomerInput:
    location_id: strawberry.ID
    first_name: str
    last_name: str
    email: str
    mobile_phone: str = ""


@strawberry.input(description="Only the fields given change.")
class UpdateCustomerInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    mobile_phone: str | None = strawberry.UNSET


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="Customers of a location by last and first name; `search` matches name, email or phone."
    )
    @as_result
    async def customers(
        self,
        info: Info,
        location_id: strawberry.ID,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> CustomerConnectionResult:
        staff = await info.context.staff()
        page = await customers.search_customers(
            staff, parse_id("Location", location_id), search, Paging(first, after, last, before)
        )
        return Connection[Customer].of(page, Customer.from_model)


@strawberry.type
class CustomerMutation:
    @strawberry.mutation
    @as_result
    async def create_customer(self, info: Info, input: CreateCustomerInput) -> CustomerResult:
        fields = provided(input)
        location_id = parse_id("Location", fields.pop("location_id"))
        return Customer.from_model(await customers.create_customer(await info.context.staff(), location_id, **fields))

    @strawberry.mutation
    @as_result
    async def update_customer(self, info: Info, id: strawberry.ID, input: UpdateCustomerInput) -> CustomerResult:
        row = await customers.update_customer(await info.context.staff(), parse_id("Customer", id), **provided(input))
        return Customer.from_model(row)
