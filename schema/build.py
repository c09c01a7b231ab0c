"""Schema assembly: the core's Query and Mutation, plus what plugins contribute, with limits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from core.plugins.types import GraphQLContribution
from core.settings import Settings
from schema.appointments import AppointmentMutation, AppointmentQuery
from schema.calendars import CalendarMutation, CalendarQuery
from schema.customers import CustomerMutation, CustomerQuery
from schema.email import EmailMutation, EmailQuery
from schema.error_codes import error_code
from schema.limits import limits_extension
from schema.locations import LocationMutation, LocationQuery
from schema.plugins import LinkUnavailable, PluginDisabled, PluginMutation, PluginQuery
from schema.rules import RulesMutation
from schema.scalars import SCALAR_MAP
from schema.services import ServiceMutation, ServiceQuery
from schema.staff import StaffMutation, StaffQuery
from schema.text_inputs import check_text_inputs

CORE_QUERIES: tuple[type, ...] = (
    LocationQuery,
    CalendarQuery,
    ServiceQuery,
    CustomerQuery,
    AppointmentQuery,
    EmailQuery,
    PluginQuery,
    StaffQuery,
)
CORE_MUTATIONS: tuple[type, ...] = (
    LocationMutation,
    RulesMutation,
    CalendarMutation,
    ServiceMutation,
    CustomerMutation,
    AppointmentMutation,
    EmailMutation,
    PluginMutation,
    StaffMutation,
)


log = logging.getLogger("agendum.graphql")


class SchemaConflict(Exception):
    """Two contributors declare the same root field."""


def _fields(cls: type) -> list[str]:
    return [f.python_name for f in cls.__strawberry_definition__.fields]


def check_unique_fields(kind: str, contributors: Sequence[tuple[str, type]]) -> None:
    """Refuse two contributors (named by plugin) that declare the same root field."""
    seen: dict[str, str] = {}
    for owner, cls in contributors:
        for name in _fields(cls):
            if name in seen:
                raise SchemaConflict(f"{kind} field {name!r} is declared by both {seen[name]} and {owner}.")
            seen[name] = owner


def should_mask(error: GraphQLError) -> bool:
    """Mask unexpected exceptions; GraphQL's own errors (syntax, validation, coercion) stay."""
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class AgendumSchema(strawberry.Schema):
    """Strawberry's schema, logging errors without the request: the text of a GraphQL error quotes
    the query (a password written inline in it, say), so only the operation's name, the error's
    code and path are logged, with the traceback of an unexpected exception."""

    def process_errors(self, errors: list[GraphQLError], execution_context=None) -> None:
        operation = getattr(execution_context, "operation_name", None) or "(anonymous)"
        for error in errors:
            code, path = error_code(error), ".".join(map(str, error.path or ())) or "-"
            if should_mask(error) and code == "INTERNAL_SERVER_ERROR":
                log.error(
                    "GraphQL operation %.100s failed at %s: %s", operation, path, code, exc_info=error.original_error
                )
            else:
                log.info("GraphQL operation %.100s answered %s at %s", operation, code, path)


def build_schema(
    settings: Settings, contributions: Sequence[tuple[str, GraphQLContribution]] = ()
) -> strawberry.Schema:
    """The executable schema: core roots merged with the (plugin, contribution) pairs of plugins."""
    all_queries = [("core", q) for q in CORE_QUERIES] + [(name, c.query) for name, c in contributions if c.query]
    all_mutations = [("core", m) for m in CORE_MUTATIONS] + [
        (name, c.mutation) for name, c in contributions if c.mutation
    ]
    types = [PluginDisabled, LinkUnavailable, *(t for _, c in contributions for t in c.types)]
    check_unique_fields("Query", all_queries)
    check_unique_fields("Mutation", all_mutations)
    extensions: list = [
        partial(ParserCache, maxsize=512),
        partial(ValidationCache, maxsize=512),
        limits_extension(settings.max_query_depth, settings.max_aliases, settings.max_tokens),
    ]
    if not settings.debug:
        extensions.append(partial(MaskErrors, should_mask_error=should_mask))
    schema = AgendumSchema(
        query=merge_types("Query", tuple(cls for _, cls in all_queries)),
        mutation=merge_types("Mutation", tuple(cls for _, cls in all_mutations)),
        types=types,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    check_text_inputs(schema)
    return schema
