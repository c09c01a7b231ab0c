"""Baseline for bench/graphql.py: a one-field strawberry schema as a bare ASGI app (no Starlette,
no ORM, no auth), with the same parser and validation caches Agendum's schema uses, so the
benchmark shows what strawberry + uvicorn alone cost per request.

Serve from the project root with: uvicorn bench.bare_strawberry:app
(not with --app-dir bench: bench/graphql.py would shadow graphql-core).
"""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


schema = strawberry.Schema(
    query=Query,
    extensions=[partial(ParserCache, maxsize=512), partial(ValidationCache, maxsize=512)],
)
app = GraphQL(schema)
