"""Agendum: the ASGI app (`create_app`) and the `agendum` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from core.changes import on_change_in_transaction
from core.db import run_migrations, tortoise_config
from core.errors import DomainError
from core.notifications import Notifier
from core.ratelimit import Limiter, MemoryLimiter
from core.settings import Settings, SettingsError
from schema.build import build_schema
from schema.context import Context
from schema.error_codes import with_codes
from web.client_ip import request_ip


class AgendumGraphQL(GraphQL):
    """Strawberry's ASGI view with Agendum's request context; JSON POSTs only, GraphiQL on GET."""

    def __init__(self, schema, settings: Settings, limiter: Limiter) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
            subscription_protocols=(),
        )
        self.settings = settings
        self.limiter = limiter

    async def get_context(self, request: Request, response) -> Context:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        return Context(
            settings=self.settings,
            limiter=self.limiter,
            client_ip=request_ip(request.scope, self.settings.trusted_proxies),
            user_agent=request.headers.get("user-agent", "")[:500],
            bearer_token=token.strip() or None if scheme.lower() == "bearer" else None,
            request=request,
            response=response,
        )


    async def process_result(self, request: Request, result) -> dict:
        """The response body, each error with an `extensions.code`."""
        return with_codes(await super().process_result(request, result), result.errors)


class ProcessIdHeader:
    """Adds `X-Agendum-Pid` to every response (test mode: shows which worker answered)."""

    def __init__(self, app) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    async def __call__(self, scope, receive, send) -> None:
        async def send_with_pid(message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-agendum-pid", self.pid)]
            await send(message)

        await self.app(scope, receive, send_with_pid if scope["type"] == "http" else send)


async def healthz(request: Request) -> JSONResponse:
    """Liveness and database reachability."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return JSONResponse({"status": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, limiter: Limiter | None = None) -> Starlette:
    """The Agendum ASGI app for these settings (read from the environment when not given)."""
    settings = (settings or Settings.from_env()).checked()
    limiter = limiter or MemoryLimiter()
    schema = build_schema(settings)
    graphql = AgendumGraphQL(schema, settings, limiter)
    on_change_in_transaction("email", Notifier(settings).queue)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
                allow_credentials=True,
            )
        )
    if settings.expose_process_id:
        middleware.append(Middleware(ProcessIdHeader))
    app = Starlette(
        debug=settings.debug,
        routes=[Route("/graphql", graphql, methods=["GET", "POST"]), Route("/healthz", healthz)],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limiter = limiter
    app.state.schema = schema
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings from the environment."""
    return create_app(Settings.from_env())


# ---------------------------------------------------------------- command line


async def _with_orm(settings: Settings, work) -> None:
    try:
        await Tortoise.init(config=tortoise_config(settings.database_url))
        await work()
    finally:
        await Tortoise.close_connections()


async def _migrate(settings: Settings) -> None:
    try:
        await run_migrations(tortoise_config(settings.database_url))
    finally:
        await Tortoise.close_connections()


def _cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(_migrate(Settings.from_env()))
    print("Migrations applied.")


def _cmd_create_admin(args: argparse.Namespace) -> None:
    from core.accounts import create_admin

    settings = Settings.from_env()

    async def work() -> None:
        issued = await create_admin(args.email, args.password, settings)
        print(f"Owner {issued.user.email}. Bearer token (shown once, expires {issued.expires_at:%Y-%m-%d}):")
        print(issued.token)

    asyncio.run(_with_orm(settings, work))


def _cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.demo:
        os.environ["AGENDUM_DEMO"] = "1"
    os.environ.setdefault("AGENDUM_BASE_URL", f"http://{args.host}:{args.port}")
    settings = Settings.from_env().checked()
    if settings.is_sqlite or settings.demo:
        asyncio.run(_migrate(settings))
    if settings.demo:
        from core.demo import seed_demo

        async def work() -> None:
            token = await seed_demo(settings)
            print(f"\nAgendum demo: GraphiQL at {settings.base_url}/graphql")
            print(f"Staff token (owner demo@agendum.local): {token}")
            print(f"Try: curl -s {settings.base_url}/graphql -H 'Authorization: Bearer {token}' "
                  "-H 'Content-Type: application/json' -d '{\"query\":\"{ locations { ... on LocationConnection { edges { node { id name } } } } }\"}'\n",
                  flush=True)  # uvicorn.run blocks: without a flush a piped stdout never shows the token

        asyncio.run(_with_orm(settings, work))
    uvicorn.run(
        "app:app_from_env", factory=True, host=args.host, port=args.port, workers=args.workers,
        log_level="info", proxy_headers=False,
    )


def main(argv: list[str] | None = None) -> None:
    """The `agendum` command."""
    parser = argparse.ArgumentParser(prog="agendum", description="Agendum appointment scheduling API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server (migrates the embedded SQLite database first)")
    serve.add_argument("--demo", action="store_true", help="fill a demo location and print a staff token")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=_cmd_serve)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_cmd_migrate)
    admin = commands.add_parser("create-admin", help="create the first owner and print a bearer token")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="password for signing in with staffLogin (optional)")
    admin.set_defaults(func=_cmd_create_admin)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (SettingsError, DomainError) as error:
        sys.exit(f"agendum: {error}")


if __name__ == "__main__":
    main()
