"""Query limits (depth, aliases, tokens) as one extension whose rules are built once,
so the validation cache keeps hitting."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator


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
