"""Baseline for bench/graphql.py: the smallest strawberry schema as a bare ASGI app (no Starlette,
no ORM, no extensions), so the benchmark can show what the framework alone costs per request.

Serve from the project root with: uvicorn bench.bare_strawberry:app
(not with --app-dir bench: bench/graphql.py would shadow graphql-core)
"""

from __future__ import annotations

import strawberry
from strawberry.asgi import GraphQL


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


schema = strawberry.Schema(query=Query)
app = GraphQL(schema)
