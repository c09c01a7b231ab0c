"""Typed errors as data: each core refusal becomes a member of the field's result union."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from core import errors as core_errors


@strawberry.interface(description="Something the caller can act on went wrong.")
class Problem:
    message: str


@strawberry.type(description="An input value is malformed or breaks a rule; `field` names it.")
class ValidationError(Problem):
    field: str


@strawberry.type(description="No such object, or not one the caller may know of.")
class NotFound(Problem):
    pass


@strawberry.type(description="Not signed in, or not allowed to do this.")
class PermissionDenied(Problem):
    pass


@strawberry.type(description="The email or password is incorrect.")
class InvalidCredentials(Problem):
    pass


@strawberry.type(description="Too many attempts; wait `retryAfterSeconds`.")
class RateLimited(Problem):
    retry_after_seconds: int


@strawberry.type(description="The request asks for more free-slot work than its budget allows; the field computed nothing. `cost` is the request's estimated cost (all its slot fields), `budget` the most it may spend. Ask for fewer days, one calendar, or fewer slot fields per request.")
class QueryTooCostly(Problem):
    cost: int
    budget: int


CONVERTERS: dict[type[core_errors.DomainError], Callable[[Any], Problem]] = {
    core_errors.ValidationFailed: lambda e: ValidationError(message=e.message, field=e.field),
    core_errors.NotFound: lambda e: NotFound(message=e.message),
    core_errors.PermissionDenied: lambda e: PermissionDenied(message=e.message),
    core_errors.InvalidCredentials: lambda e: InvalidCredentials(message=e.message),
    core_errors.RateLimited: lambda e: RateLimited(message=e.message, retry_after_seconds=e.retry_after),
    core_errors.QueryTooCostly: lambda e: QueryTooCostly(message=e.message, cost=e.cost, budget=e.budget),
}


def to_graphql(error: core_errors.DomainError) -> Problem:
    """The GraphQL value of a core refusal (the converter of its nearest registered class)."""
    for cls in type(error).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls](error)
    raise TypeError(f"No GraphQL type for {type(error).__name__}")


R = TypeVar("R")


def as_result(resolver: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Wrap a resolver so core refusals come back as typed values instead of `errors[]`."""

    @functools.wraps(resolver)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await resolver(*args, **kwargs)
        except core_errors.DomainError as error:
            return to_graphql(error)

    return wrapper
