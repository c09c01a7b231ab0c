"""Agendum: the ASGI app (`create_app`) and the `agendum` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import ipaddress
import json
import logging
import math
import os
import signal
import sys
from http import HTTPStatus
from pathlib import Path


def foreign_packages() -> list[str]:
    """Agendum installs `core`, `schema`, `web` and `plugins` as top-level packages next to this
    module; one line for each of them that Python would import from elsewhere instead (another
    distribution of the same name: PyPI has a `schema`). Finds them without importing them."""
    here = Path(__file__).resolve().parent
    problems = []
    for name in ("core", "schema", "web", "plugins"):
        spec = importlib.util.find_spec(name)
        found = [Path(place).resolve() for place in (spec.submodule_search_locations or [])] if spec else []
        if here / name not in found:
            origin = spec.origin if spec and spec.origin else (", ".join(map(str, found)) or "nowhere")
            problems.append(
                f"agendum: the top-level package `{name}` comes from {origin}, not from Agendum "
                f"({here / name}): uninstall the other distribution that provides `{name}`, or use a "
                "virtual environment of Agendum's own"
            )
    return problems


if _foreign := foreign_packages():
    sys.exit("\n".join(_foreign))

from cross_web import HTTPException  # strawberry's HTTP-level refusal (its own dependency)
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from strawberry import UNSET
from strawberry.asgi import GraphQL
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from core.agendum import Agendum
from core.db import run_migrations, tortoise_config
from core.email.delivery import Worker
from core.errors import DomainError
from core.plugins import host as plugins
from core.security import redaction
from core.security.accounts import authenticate
from core.security.ratelimit import Limiter, limiter_for
from core.settings import Settings, SettingsError
from schema import retries
from schema.build import build_schema
from schema.context import Context
from schema.error_codes import error_body, with_codes
from web.body_limit import BodyLimit
from web.branding import LOGO_PATH_PREFIX, branding_routes
from web.client_ip import request_ip
from web.graphiql import graphiql_page, graphiql_routes
from web.mailbox import DevMailbox
from web.pages import Pages, not_found_handler, too_large_page
from web.params import BadParameter, bad_parameter_page

log = logging.getLogger("agendum")
# Built-in plugins, listed explicitly; third-party ones come from the `agendum` entry points.
BUILTIN_PLUGINS: tuple[str, ...] = ("plugins.action_links", "plugins.one_time_links", "plugins.client_portal")


def load_plugins(settings: Settings) -> plugins.PluginHost:
    """The plugin host: the built-in plugins, plus entry-point plugins unless settings say not."""
    return plugins.PluginHost.load(BUILTIN_PLUGINS, entry_point_plugins=settings.load_entry_points)


def orm_config(settings: Settings, host: plugins.PluginHost | None = None) -> dict:
    """Tortoise config of the core and of every installed plugin's models."""
    return tortoise_config(settings.database_url, (host or load_plugins(settings)).model_apps())


WORKER_STOP_TIMEOUT = 10  # seconds a stopping worker may take to finish the message in hand
WORKER_NEEDS = ("AGENDUM_SECRET_KEY", "AGENDUM_BASE_URL")  # `agendum worker` puts customers' links into emails


class AgendumGraphQL(GraphQL):
    """Strawberry's ASGI view with Agendum's request context; JSON POSTs only, GraphiQL on GET."""

    def __init__(self, schema, app: Agendum, limiter: Limiter) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
            subscription_protocols=(),
        )
        self.app = app
        self.settings = app.settings
        self.limiter = limiter

    async def get_context(self, request: Request, response) -> Context:
        context = Context(
            app=self.app,
            settings=self.settings,
            limiter=self.limiter,
            client_ip=request_ip(request.scope, self.settings.trusted_proxies),
            user_agent=request.headers.get("user-agent", "")[:500],
            bearer_token=bearer_token(request),
            request=request,
            response=response,
        )
        staff = getattr(request.state, "staff", None)
        if staff is not None:  # authenticated once already, by `run`
            context.signed_in_as(staff)
        return context

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from this app's own assets (web/graphiql.py): it works offline."""
        return graphiql_page()

    async def process_result(self, request: Request, result) -> dict:
        """The response body, each error with an `extensions.code`."""
        return with_codes(await super().process_result(request, result), result.errors)

    async def run(self, request: Request, context=UNSET, root_value=UNSET):
        """Strawberry's answer, with its HTTP-level refusals (bad JSON, wrong content type...) as
        JSON errors rather than plain text; HTTP 401 for a token that is not valid; a mutation
        with an `Idempotency-Key` run once (schema.retries)."""
        if request.method == "POST" and "authorization" in request.headers:
            request.state.staff = await authenticate(bearer_token(request) or "")
            if request.state.staff is None:
                return unauthenticated()
        key = request.headers.get("idempotency-key")
        if request.method == "POST" and key is not None:
            staff = getattr(request.state, "staff", None)
            return await retries.once(request, key, staff, lambda: self._answer(request, context, root_value))
        return await self._answer(request, context, root_value)

    async def _answer(self, request: Request, context, root_value):
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            body = error_body(error.reason, HTTPStatus(error.status_code).name)
            return JSONResponse(body, status_code=error.status_code)

    def decode_json(self, data: str | bytes) -> object:
        """The request's JSON object; nesting too deep for Python's parser, or JSON that is not an
        object (a string, a number), is a 400, not a 500."""
        try:
            decoded = json.loads(data)
        except RecursionError:
            raise HTTPException(400, "The JSON body is nested too deeply.") from None
        if not isinstance(decoded, (dict, list)):  # a list is refused as a batch by strawberry
            raise HTTPException(400, 'The JSON body must be an object: {"query": "...", "variables": {...}}.')
        return decoded


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None without one."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthenticated() -> JSONResponse:
    """HTTP 401 for a request whose Authorization header carries no valid token (unknown,
    expired, revoked, or not a bearer token): clients send the user to sign in again."""
    body = error_body("The access token is invalid, expired or revoked: sign in again.", "UNAUTHENTICATED")
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


async def graphql_too_large(request: Request, max_bytes: int) -> JSONResponse:
    """413 for a GraphQL request over the body limit (web/body_limit.py)."""
    message = f"The request body is larger than the limit of {max_bytes} bytes."
    return JSONResponse(error_body(message, "PAYLOAD_TOO_LARGE"), status_code=413)


async def too_large(request: Request, max_bytes: int):
    """The 413 of a request over the body limit: a JSON error from GraphQL, a page from anything else."""
    if request.url.path == "/graphql":
        return await graphql_too_large(request, max_bytes)
    return await too_large_page(request, max_bytes)


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


@contextlib.asynccontextmanager
async def delivering(app: Starlette, agendum: Agendum, mailbox: DevMailbox | None):
    """For the app's lifetime: the dev mailbox (demo mode without AGENDUM_SMTP_URL) and the
    in-process outbox worker (unless AGENDUM_RUN_WORKER is off), as `app.state.worker`.
    Runs inside RegisterTortoise, so the worker's task sees the app's database."""
    settings = agendum.settings
    if mailbox is not None:
        await mailbox.start()
    smtp = mailbox.smtp if mailbox is not None else settings.smtp
    worker = task = None
    if settings.run_worker and smtp is not None:
        worker = Worker(agendum, smtp, settings.mail_from, settings.delivery)
        task = asyncio.create_task(worker.run(), name="agendum-outbox-worker")
    elif settings.run_worker:
        log.warning("AGENDUM_SMTP_URL is not set: emails stay queued until a worker with an SMTP server sends them")
    app.state.worker = worker
    try:
        yield
    finally:
        if task is not None:
            worker.stop()
            try:
                await asyncio.wait_for(task, WORKER_STOP_TIMEOUT)  # cancels it when too slow (leases expire)
            except TimeoutError:
                log.warning("the outbox worker did not stop within %ss; its leases will expire", WORKER_STOP_TIMEOUT)
        app.state.worker = None
        if mailbox is not None:
            await mailbox.stop()


def create_app(
    settings: Settings | None = None, limiter: Limiter | None = None, host: plugins.PluginHost | None = None
) -> Starlette:
    """The Agendum ASGI app for these settings (read from the environment when not given), with
    the given plugin host (by default the built-in and entry-point plugins; a host serves one app).
    Its `core.agendum.Agendum` is `state.agendum`, also in every GraphQL context. From then on the
    process's logs are redacted (core.security.redaction): no tokens or email addresses, whoever logs."""
    redaction.install()
    settings = (settings or Settings.from_env()).checked()
    own_limiter = limiter is None  # Redis when AGENDUM_REDIS_URL is set; closed with the app
    limiter = limiter or limiter_for(settings.redis_url, settings.secret_key)
    host = host or load_plugins(settings)
    agendum = Agendum(settings, host)
    schema = build_schema(settings, host.graphql())
    graphql = AgendumGraphQL(schema, agendum, limiter)
    mailbox = DevMailbox() if settings.demo and not settings.smtp_url else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        async with RegisterTortoise(app, config=orm_config(settings, host)):
            async with delivering(app, agendum, mailbox):
                await host.startup()
                try:
                    yield
                finally:
                    await host.shutdown()
                    if own_limiter and hasattr(limiter, "aclose"):
                        await limiter.aclose()

    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "DELETE"],  # DELETE: removing a logo (web/branding.py)
                allow_headers=list(settings.cors_headers),
                expose_headers=["Retry-After", "X-Request-Id"],
                allow_credentials=True,
            )
        )
    if settings.expose_process_id:
        middleware.append(Middleware(ProcessIdHeader))
    middleware.append(
        Middleware(BodyLimit, max_bytes=settings.max_body_bytes, refusal=too_large, exempt=(LOGO_PATH_PREFIX,))
    )
    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql),  # the view answers other methods: 405, a JSON error
            *graphiql_routes(),  # /graphql/assets/...: GraphiQL's scripts and stylesheets
            Route("/healthz", healthz),
            *branding_routes(),  # /locations/{id}/logo
            *(mailbox.routes() if mailbox is not None else []),  # /dev/mailbox: demo mode only
            *(Mount(routes.prefix.rstrip("/"), routes=routes.routes) for _, routes in host.routes()),
        ],
        middleware=middleware,
        # Unknown URLs get the same page as unknown links; unreadable page parameters a 400 page.
        exception_handlers={404: not_found_handler, BadParameter: bad_parameter_page},
        lifespan=lifespan,
    )
    agendum.asgi = app
    app.state.agendum = agendum
    app.state.settings = settings
    app.state.limiter = limiter
    app.state.schema = schema
    app.state.plugins = host
    app.state.mailbox = mailbox
    app.state.pages = Pages({name: routes.templates for name, routes in host.routes() if routes.templates})
    app.state.worker = None  # the running outbox worker, set by the lifespan
    return app


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings from the environment."""
    return create_app(Settings.from_env())


# ---------------------------------------------------------------- command line


def app_for(settings: Settings) -> Agendum:
    """The Agendum app of these settings with the built-in and entry-point plugins (for commands)."""
    return Agendum(settings, load_plugins(settings))


async def _with_orm(app: Agendum, work) -> None:
    try:
        await Tortoise.init(config=orm_config(app.settings, app.plugins))
        await work()
    finally:
        await Tortoise.close_connections()


async def _migrate(settings: Settings) -> None:
    try:
        await run_migrations(orm_config(settings))
    finally:
        await Tortoise.close_connections()


def _cmd_migrate(args: argparse.Namespace) -> None:
    asyncio.run(_migrate(Settings.from_env()))
    print("Migrations applied.")


def _cmd_create_admin(args: argparse.Namespace) -> None:
    from core.security.accounts import create_admin

    settings = Settings.from_env()
    app = app_for(settings)

    async def work() -> None:
        issued = await create_admin(args.email, args.password, settings)
        print(f"Owner {issued.user.email}. Bearer token (shown once, expires {issued.expires_at:%Y-%m-%d}):")
        print(issued.token)

    asyncio.run(_with_orm(app, work))


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1): reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name may resolve to a public address


def listening_url(host: str, port: int) -> str:
    """The http:// address of a server listening on host and port (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.demo:
        os.environ["AGENDUM_DEMO"] = "1"
    settings = Settings.from_env()
    if settings.demo and not settings.base_url:  # the demo's links point at where it listens (uvicorn's workers too)
        os.environ["AGENDUM_BASE_URL"] = listening_url(args.host, args.port)
        settings = settings.replace(base_url=os.environ["AGENDUM_BASE_URL"])
    settings = settings.checked()
    if settings.demo and not is_loopback(args.host):
        raise SettingsError(
            f"the demo serves this machine only, not --host {args.host}: its secret key and owner password are "
            "public (anyone could compute its links or sign in) and /dev/mailbox shows every email. Serve it on "
            "127.0.0.1 (the default), localhost or ::1; for a network, serve without --demo and AGENDUM_DEMO."
        )
    if settings.is_sqlite or settings.demo:
        asyncio.run(_migrate(settings))
    if settings.demo:
        from core.demo import seed_demo

        app = app_for(settings)

        async def work() -> None:
            token = await seed_demo(app)
            print(f"\nAgendum demo: GraphiQL at {settings.base_url}/graphql")
            print(f"Staff token (owner demo@agendum.local): {token}")
            if not settings.smtp_url:
                print(f"Dev mailbox (the emails the demo sends): {settings.base_url}/dev/mailbox")
            print(
                f"Try: curl -s {settings.base_url}/graphql -H 'Authorization: Bearer {token}' "
                "-H 'Content-Type: application/json' -d '{\"query\":\"{ locations { ... on LocationConnection { edges { node { id name } } } } }\"}'\n",
                flush=True,
            )  # uvicorn.run blocks: without a flush a piped stdout never shows the token

        asyncio.run(_with_orm(app, work))
    uvicorn.run(
        "app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        proxy_headers=False,
    )


def _cmd_worker(args: argparse.Namespace) -> None:
    from core.email.delivery import DeliveryConfig, shortest_lease

    settings = Settings.from_env()
    smtp = settings.smtp
    if smtp is None:
        raise SettingsError(
            "AGENDUM_SMTP_URL is not set: the worker needs an SMTP server to send to, "
            "e.g. smtp://user:password@mail.example.com:587?starttls=true"
        )
    missing = [name for name, value in zip(WORKER_NEEDS, (settings.secret_key, settings.base_url)) if not value.strip()]
    if missing:
        args.parser.exit(
            2,
            f"agendum worker: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            "Set AGENDUM_SECRET_KEY and AGENDUM_BASE_URL as on the servers: emails keep the customers' "
            "links as references, which the worker turns into the links it sends (it reads and derives "
            "them with the secret key; the base URL is their address).\n",
        )
    settings = settings.checked()  # a weak key is refused as `serve` refuses it
    shortest = shortest_lease(smtp)
    if args.lease_seconds is not None and args.lease_seconds < shortest:
        args.parser.error(
            f"argument --lease-seconds: {args.lease_seconds:g} is shorter than {shortest:g}, 12 x the SMTP timeout of "
            f"{smtp.timeout:g}s (a claim must outlast the messages sent under it); give at least {shortest:g}, "
            "or a shorter ?timeout= in AGENDUM_SMTP_URL"
        )
    lease = args.lease_seconds if args.lease_seconds is not None else max(DeliveryConfig.lease_seconds, shortest)
    config = DeliveryConfig(
        lanes=args.lanes, batch_size=args.batch, poll_interval=args.poll_interval, lease_seconds=lease
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = app_for(settings)
    worker = Worker(app, smtp, settings.mail_from, config)

    async def work() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        print(
            f"Outbox worker {worker.worker_id}: sending to {smtp.describe()} "
            f"with {config.lanes} lanes of {config.batch_size}, leases of {worker.lease_seconds:g}s",
            flush=True,
        )
        if args.until_idle:
            await worker.drain()
        else:
            await worker.run()
        s = worker.stats
        print(
            f"Outbox worker {worker.worker_id} stopped: {s.sent} sent, {s.retried} to retry, {s.failed} failed, "
            f"{s.voided} void, {s.released} released, {s.outages} outages",
            flush=True,
        )

    asyncio.run(_with_orm(app, work))


def printed_schema() -> str:
    """The GraphQL schema (SDL) a default installation serves: core and built-in plugins."""
    settings = Settings(load_entry_points=False)
    return build_schema(settings, load_plugins(settings).graphql()).as_str() + "\n"


def _cmd_schema(args: argparse.Namespace) -> None:
    sys.stdout.write(printed_schema())


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is less than 1")
    return value


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


def command_line() -> argparse.ArgumentParser:
    """The `agendum` command's parser: every command and option (README.md lists them all)."""
    parser = argparse.ArgumentParser(prog="agendum", description="Agendum appointment scheduling API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server (migrates the embedded SQLite database first)")
    serve.add_argument("--demo", action="store_true", help="fill a demo location and print a staff token")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=_at_least_one, default=1, help="server processes (default 1)")
    serve.set_defaults(func=_cmd_serve)
    schema_cmd = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema_cmd.set_defaults(func=_cmd_schema)
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(func=_cmd_migrate)
    admin = commands.add_parser("create-admin", help="create the first owner and print a bearer token")
    admin.add_argument("--email", required=True, help="the owner's email address")
    admin.add_argument("--password", help="password for signing in with staffLogin (optional)")
    admin.set_defaults(func=_cmd_create_admin)
    worker = commands.add_parser(
        "worker", help="deliver queued email (run several for scale; pair with AGENDUM_RUN_WORKER=false on servers)"
    )
    worker.add_argument("--lanes", type=_at_least_one, default=4, help="SMTP connections used side by side (default 4)")
    worker.add_argument(
        "--batch", type=_at_least_one, default=25, help="messages claimed per lane at a time (default 25)"
    )
    worker.add_argument(
        "--poll-interval", type=_seconds, default=5.0, help="seconds between looks when idle (default 5)"
    )
    worker.add_argument(
        "--lease-seconds",
        type=_seconds,
        default=None,
        help="how long a claim is exclusive before another worker may retry it; at least 12 x the "
        "SMTP timeout (default 300, or that minimum when longer)",
    )
    worker.add_argument("--until-idle", action="store_true", help="exit once nothing is due (e.g. from cron)")
    worker.set_defaults(func=_cmd_worker, parser=worker)
    return parser


def main(argv: list[str] | None = None) -> None:
    """The `agendum` command."""
    redaction.install()
    args = command_line().parse_args(argv)
    try:
        args.func(args)
    except (SettingsError, DomainError) as error:  # one line per problem, each naming what to change
        sys.exit("\n".join(f"agendum: {line}" for line in str(error).splitlines()))


if __name__ == "__main__":
    main()
