"""Typed errors as data: each core refusal becomes a member of the field's result union."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from core import errors as core_errors
from schema.problem_codes import ErrorCode

CODE = "What went wrong, for a program: one value of `ErrorCode` per kind of problem (see each type)."


@strawberry.interface(
    description="Something the caller can act on went wrong: `message` for a person, `code` for a program."
)
class Problem:
    message: str
    code: ErrorCode = strawberry.field(default=ErrorCode.PLUGIN_PROBLEM, description=CODE)


@strawberry.type(
    description="One problem of one input: `field` is its full path with list indices (`staffNotices[2].event`), `code` its kind (`REQUIRED`, `TOO_LONG`, ...)."
)
class FieldProblem:
    field: str
    message: str
    code: ErrorCode


@strawberry.type(
    description="Input values are malformed or break a rule. `problems` lists every one found at once; `field`, `message` and `code` repeat the first."
)
class ValidationError(Problem):
    field: str
    code: ErrorCode = strawberry.field(
        default=ErrorCode.INVALID,
        description="The kind of the first problem: REQUIRED, TOO_SHORT, TOO_LONG, INVALID_FORMAT, INVALID_CHARACTERS, OUT_OF_RANGE, INVALID_CHOICE, DUPLICATE, TAKEN, NOT_EDITABLE, WEAK_PASSWORD, INCORRECT or INVALID.",
    )
    problems: list[FieldProblem] = strawberry.field(
        default_factory=list, description="Every problem of the input, the first one first."
    )


@strawberry.type(description="No such object, or not one the caller may know of.")
class NotFound(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.NOT_FOUND, description=CODE)


@strawberry.type(description="Not signed in, or not allowed to do this.")
class PermissionDenied(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.PERMISSION_DENIED, description=CODE)


@strawberry.type(description="The email or password is incorrect.")
class InvalidCredentials(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.INVALID_CREDENTIALS, description=CODE)


@strawberry.type(description="Too many attempts; wait `retryAfterSeconds`.")
class RateLimited(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.RATE_LIMITED, description=CODE)
    retry_after_seconds: int


@strawberry.type(
    description="The request asks for more free-slot work than its budget allows; the field computed nothing. `cost` is the request's estimated cost (all its slot fields), `budget` the most it may spend. Ask for fewer days, one calendar, or fewer slot fields per request."
)
class QueryTooCostly(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.QUERY_TOO_COSTLY, description=CODE)
    cost: int
    budget: int


def validation_error(error: core_errors.ValidationFailed) -> ValidationError:
    """The GraphQL value of a validation refusal: its first problem and all of them."""
    problems = [FieldProblem(field=p.field, message=p.message, code=ErrorCode[p.code.value]) for p in error.problems]
    first = problems[0]
    return ValidationError(message=first.message, field=first.field, code=first.code, problems=problems)


CONVERTERS: dict[type[core_errors.DomainError], Callable[[Any], Problem]] = {
    core_errors.ValidationFailed: validation_error,
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
