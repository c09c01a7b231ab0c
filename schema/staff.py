"""GraphQL for staff accounts: sign-in, users, token revocation."""

from __future__ import annotations

from typing import Annotated

import strawberry

from core.pagination import Paging
from core.security import accounts
from core.security.passwords import RULES as PASSWORD_RULES
from schema.context import Info
from schema.errors import InvalidCredentials, RateLimited, ValidationError, as_result
from schema.inputs import parse_id, parse_ids, result
from schema.types import Connection, RevokedTokens, StaffRole, StaffSession, StaffUser

StaffUserResult = result("StaffUserResult", StaffUser)
StaffUserConnectionResult = result("StaffUserConnectionResult", Connection[StaffUser])
RevokeResult = result("RevokeStaffTokenResult", RevokedTokens)
StaffLoginResult = Annotated[
    StaffSession | InvalidCredentials | RateLimited | ValidationError, strawberry.union("StaffLoginResult")
]


@strawberry.input
class CreateStaffUserInput:
    email: str
    password: str = strawberry.field(description=PASSWORD_RULES)
    role: StaffRole
    name: str = ""
    location_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Locations a manager works at; none for an owner."
    )


@strawberry.type
class StaffQuery:
    @strawberry.field(
        description="Staff users you may see: all for owners; for a manager, the managers of their locations."
    )
    @as_result
    async def staff_users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> StaffUserConnectionResult:
        page = await accounts.staff_user_page(await info.context.staff(), Paging(first, after, last, before))
        return Connection[StaffUser].of(page, StaffUser.from_model)


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        description="Exchange email and password for a bearer token. Rate-limited per account and per IP."
    )
    @as_result
    async def staff_login(self, info: Info, email: str, password: str) -> StaffLoginResult:
        ctx = info.context
        issued = await accounts.login(
            email, password, client_ip=ctx.client_ip, limiter=ctx.limiter, settings=ctx.settings
        )
        return StaffSession(token=issued.token, expires_at=issued.expires_at, user=StaffUser.from_model(issued.user))

    @strawberry.mutation(description="Create a staff user (owners only).")
    @as_result
    async def create_staff_user(self, info: Info, input: CreateStaffUserInput) -> StaffUserResult:
        user = await accounts.create_staff_user(
            await info.context.staff(),
            email=input.email,
            password=input.password,
            role=input.role,
            name=input.name,
            location_ids=parse_ids("Location", input.location_ids),
            settings=info.context.settings,
        )
        return StaffUser.from_model(user)

    @strawberry.mutation(
        description="Revoke `token`, or every token of `userId` (yours, or anyone's for an owner), or, with neither, the token of this request."
    )
    @as_result
    async def revoke_staff_token(
        self, info: Info, token: str | None = None, user_id: strawberry.ID | None = None
    ) -> RevokeResult:
        count = await accounts.revoke_tokens(
            await info.context.staff(),
            token=token,
            user_id=parse_id("StaffUser", user_id) if user_id is not None else None,
        )
        return RevokedTokens(count=count)
