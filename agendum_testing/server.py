"""The app under test: settings for tests, the real app served by uvicorn on a loopback port in
the test's event loop, and a GraphQL client for it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import weakref
from dataclasses import dataclass

import httpx
import uvicorn

from app import create_app
from core.agendum import Agendum
from core.plugins.host import PluginHost
from core.security.ratelimit import MemoryLimiter
from core.settings import RateLimit, Settings

SECRET = "K541jpfKdGUyBrf2qMeYqLJbsefX52X28kVtXrvwDJW2_N7n0l7CBWbG2km5DInm"  # secrets.token_urlsafe(48)
OWNER_EMAIL, OWNER_PASSWORD = "owner@test.example", "owner-password-1"
# Every app the kit made in this process (served or bare), for the clock to wake their workers.
APPS: weakref.WeakSet[Agendum] = weakref.WeakSet()


def make_settings(database_url: str, **overrides) -> Settings:
    """Settings for a test app: explicit limits, debug errors, a fixed secret, cheap password
    hashes (argon2's cheapest profile), no entry-point plugins (the kit chooses them)."""
    base = Settings(
        database_url=database_url,
        secret_key=SECRET,
        base_url="http://testserver",
        debug=True,
        login_limit_per_account=RateLimit(5, 60),
        login_limit_per_ip=RateLimit(20, 60),
        load_entry_points=False,
        password_hash_profile="CHEAPEST",
    )
    return base.replace(**overrides)


def host_of(plugins) -> PluginHost:
    """A new plugin host (one per app) of these plugins: modules, objects, or module names."""
    return PluginHost([importlib.import_module(p) if isinstance(p, str) else p for p in plugins])


def bare_app(settings: Settings | None = None, host: PluginHost | None = None) -> Agendum:
    """An app that is not served (for a worker of its own, or ORM-level tests)."""
    app = Agendum(settings or Settings(secret_key=SECRET), host or PluginHost())
    APPS.add(app)
    return app


def free_socket() -> socket.socket:
    """A loopback socket bound to a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Api:
    """A running server, a client for it and an owner's token."""

    url: str
    client: httpx.AsyncClient
    settings: Settings
    owner_token: str
    app: Agendum | None = None  # the served app (its plugin host: app.plugins), when served here

    async def gql(self, query: str, variables: dict | None = None, token: str | None = "owner", **headers) -> dict:
        """POST a GraphQL request (as the owner by default; token=None for anonymous)."""
        if token == "owner":
            token = self.owner_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None, token: str | None = "owner") -> dict:
        """The `data` of a request that must not have `errors`."""
        body = await self.gql(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return body["data"]


class InLoopServer(uvicorn.Server):
    """uvicorn in the test's event loop that leaves Ctrl+C to pytest (uvicorn's own handler would
    stop only this server, failing the test, and the run would go on)."""

    @contextlib.contextmanager
    def capture_signals(self):
        """Install no signal handlers."""
        yield


async def start_server(settings: Settings, host: PluginHost | None = None):
    """Serve create_app(settings) with uvicorn on a free loopback port; returns (server, task, url)."""
    app = create_app(settings, limiter=MemoryLimiter(), host=host)
    APPS.add(app.state.agendum)
    sock = free_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False)
    server = InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


class ApiFactory:
    """Starts apps on one database; `stop()` stops them all."""

    def __init__(self, database_url: str, plugins) -> None:
        self.database_url = database_url
        self.plugins = tuple(plugins)
        self.running: list = []

    async def __call__(self, host: PluginHost | None = None, *, plugins=None, **overrides) -> Api:
        """Serve an app with `host`, or a new host of `plugins` (modules or module names; default:
        the kit's chosen plugins), and settings overrides; the owner's account is created."""
        from core.security.accounts import create_admin

        if host is None:
            host = host_of(self.plugins if plugins is None else plugins)
        settings = make_settings(self.database_url, **overrides)
        server, task, url = await start_server(settings, host)
        client = httpx.AsyncClient(base_url=url, timeout=30)
        self.running.append((server, task, client))
        issued = await create_admin(OWNER_EMAIL, OWNER_PASSWORD, settings)
        return Api(
            url=url, client=client, settings=settings, owner_token=issued.token, app=server.config.app.state.agendum
        )

    async def stop(self) -> None:
        """Close every client and stop every server this factory started."""
        for server, task, client in self.running:
            await client.aclose()
            server.should_exit = True
            await task
        self.running.clear()
