"""Query limits: depth, aliases and tokens as one extension whose rules are built once, so the
validation cache keeps hitting; and the budget and per-IP limit of the slot fields."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.types.nodes import SelectedField

from core.availability.budget import LIMIT_KEY, Charge
from core.security.ratelimit import enforce, ip_key
from schema.context import Info


def limits_extension(max_depth: int, max_aliases: int, max_tokens: int) -> type[SchemaExtension]:
    """An extension class that adds fixed depth and alias rules and a parser token limit."""
    rules = (depth_validator(max_depth, None, None), alias_validator(max_aliases))

    class QueryLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            context.parse_options["max_tokens"] = max_tokens
            context.validation_rules = context.validation_rules + rules
            yield

    return QueryLimits


async def _free(cost: int) -> None:
    return None


@contextlib.asynccontextmanager
async def slot_field(info: Info, *, staff: bool = False, fields: int = 1) -> AsyncIterator[Charge]:
    """Around the resolver of a field that computes free slots (`async with` as its first
    statement, before any await): yields the charge to call with the field's cost before any
    slot is computed (core.availability.budget; QueryTooCostly over budget). Customers' fields count each
    of their `fields` toward the client's per-IP slot limit first (RateLimited over it) and spend
    the customer budget; staff's spend the staff budget. With `fields=0` nothing is counted or charged."""
    if fields == 0:
        yield _free
        return
    context = info.context
    settings = context.settings
    ticket = context.slot_budget.ticket(settings.staff_slot_budget if staff else settings.slot_budget)
    try:
        if not staff:
            for _ in range(fields):
                await enforce(
                    context.limiter, f"{LIMIT_KEY}:ip:{ip_key(context.client_ip)}", settings.slot_limit_per_ip
                )
        yield ticket.charge
    finally:
        ticket.close()


def selections(info: Info, name: str) -> int:
    """How many times the current field's result selects the field `name` (aliases and
    fragments included; @skip and @include are not evaluated, so it never counts short)."""

    def count(selected) -> int:
        return sum(s.name == name if isinstance(s, SelectedField) else count(s.selections) for s in selected)

    return sum(count(field.selections) for field in info.selected_fields)
