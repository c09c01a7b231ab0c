"""Text inputs: every string a request passes (arguments, input-object fields, lists of them, and
strings inside `JSON` values) is checked once, before its field's resolver runs, with
`core.validation.plain_text`. A refusal lists every string at fault, each by its path (`input.firstName`,
`settings.bookingInstructions`, `input.cancellationReasons[2]`) and answers as a `ValidationError`
in the field's result union, or, for a field whose result has no `ValidationError`, as an error
with `extensions.code` BAD_USER_INPUT and `extensions.field`. Only the resolvers of fields that
take text are wrapped: the others cost nothing more.

Fields and arguments marked `@multiline` keep line breaks and tabs (CR LF becomes LF); every
other string is one line. Inside `JSON`, keys are one line and strings may hold line breaks and
tabs: what each key accepts beyond that is its consumer's to say (plugin settings models mark
their multi-line fields, core.plugins.types.MultilineText)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import (
    GraphQLArgument,
    GraphQLError,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLString,
    GraphQLUnionType,
    default_field_resolver,
    get_named_type,
    get_nullable_type,
)
from strawberry.schema_directive import Location

from core.errors import ValidationFailed
from core.validation import Problems, plain_text
from schema.errors import ValidationError, validation_error

DEFINITION = "strawberry-definition"  # where strawberry keeps an argument's or input field's definition


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    description="This text may hold line breaks and tabs; other text inputs are one line. No text input may hold control characters.",
)
class Multiline:
    pass


MULTILINE = Multiline()
MULTILINE_ARGUMENT = strawberry.argument(directives=[MULTILINE])  # Annotated[str, MULTILINE_ARGUMENT]


def check_text_inputs(schema: strawberry.Schema) -> None:
    """Make every field of `schema` that takes text check it before its resolver runs (see the
    module's docstring). Other fields are left as they are: nothing is added to their cost."""
    for type_ in schema._schema.type_map.values():  # strawberry's graphql-core schema
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for field in type_.fields.values():
                if any(_takes_text(argument.type) for argument in field.args.values()):
                    field.resolve = _checking(field.args, field.resolve or default_field_resolver)


def _checking(arguments: dict[str, GraphQLArgument], resolve: Callable) -> Callable:
    def resolve_checked(root: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        problems = Problems()
        kwargs = {name: _checked_input(value, arguments[name], name, problems) for name, value in kwargs.items()}
        try:
            problems.raise_any()
        except ValidationFailed as refused:
            return _refusal(info, refused)
        return resolve(root, info, **kwargs)

    return resolve_checked


def _takes_text(type_: Any, seen: frozenset[str] = frozenset()) -> bool:
    type_ = get_named_type(type_)
    if isinstance(type_, GraphQLInputObjectType):
        return type_.name not in seen and any(_takes_text(f.type, seen | {type_.name}) for f in type_.fields.values())
    return type_ in (GraphQLString, GraphQLID) or type_.name == "JSON"


def _refusal(info: GraphQLResolveInfo, refused: ValidationFailed) -> ValidationError:
    """The refusal as the field's `ValidationError`, or raised as a coded error when its result has none."""
    result = get_nullable_type(info.return_type)
    if isinstance(result, GraphQLUnionType) and any(member.name == "ValidationError" for member in result.types):
        return validation_error(refused)
    raise GraphQLError(
        f"{refused.field}: {refused.message}", extensions={"code": "BAD_USER_INPUT", "field": refused.field}
    )


def _is_multiline(argument_or_field: Any) -> bool:
    definition = argument_or_field.extensions.get(DEFINITION)
    return any(isinstance(d, Multiline) for d in getattr(definition, "directives", ()))


def _checked_input(value: Any, argument_or_field: Any, path: str, problems: Problems) -> Any:
    """An argument's or input field's value, checked as its type and `@multiline` say; each
    problem is recorded in `problems`."""
    return _checked(value, argument_or_field.type, path, _is_multiline(argument_or_field), problems)


def _checked(value: Any, type_: Any, path: str, multiline: bool, problems: Problems) -> Any:
    """The value of an input of this GraphQL type with its strings checked (CR LF made LF)."""
    if value is None:
        return None
    type_ = get_nullable_type(type_)
    if isinstance(type_, GraphQLList):
        return [_checked(item, type_.of_type, f"{path}[{i}]", multiline, problems) for i, item in enumerate(value)]
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _checked_input(item, type_.fields[name], f"{path}.{name}", problems) for name, item in value.items()
        }
    with problems.checking():
        if type_ is GraphQLString or type_ is GraphQLID:
            return plain_text(path, value, multiline=multiline) if isinstance(value, str) else value
        if type_.name == "JSON":
            _check_json(value, path)
    return value


def _check_json(value: Any, path: str) -> None:
    """Refuse control characters anywhere in a JSON value: keys are one line, strings may hold
    line breaks and tabs. (A loop, not recursion: JSON may nest as deep as its parser allows.)"""
    pending = [(value, path)]
    while pending:
        value, path = pending.pop()
        if isinstance(value, str):
            plain_text(path, value, multiline=True)
        elif isinstance(value, dict):
            for key, item in value.items():
                plain_text(path, str(key))
                pending.append((item, f"{path}.{key}"))
        elif isinstance(value, list):
            pending.extend((item, f"{path}[{i}]") for i, item in enumerate(value))
