"""Test harness: a fresh database per test (cloned from a migrated template) on SQLite and on
PostgreSQL, and the real app served by uvicorn on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import uvicorn
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import BUILTIN_PLUGINS, create_app, orm_config
from browser import browser, phone, screenshot  # noqa: F401 - browser fixtures (tests/browser.py)
from core.security.accounts import create_admin
from core.agendum import Agendum
from core.db import run_migrations
from core.plugins.host import PluginHost
from core.security.ratelimit import MemoryLimiter
from core.settings import RateLimit, Settings

POSTGRES_URL = os.environ.get("AGENDUM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("AGENDUM_REQUIRE_POSTGRES") == "1"
REDIS_URL = os.environ.get("AGENDUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = f"agendum-test:{uuid.uuid4().hex[:12]}:"  # the keys of this run's own limiters
TEST_SECRET = "K541jpfKdGUyBrf2qMeYqLJbsefX52X28kVtXrvwDJW2_N7n0l7CBWbG2km5DInm"  # secrets.token_urlsafe(48)
RUN_ID = uuid.uuid4().hex[:10]
# Test-only plugins are packages in tests/fixture_plugins (names unlike any real package).
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixture_plugins"))
TEST_PLUGIN_MODULES = ("agendum_probe", "agendum_witness")
# Every database the tests make has the tables of the built-in and the test plugins.
TEST_PLUGINS = PluginHost.load((*BUILTIN_PLUGINS, *TEST_PLUGIN_MODULES), entry_point_plugins=False)


# Every app the tests make (served or bare), for advance_clock to wake their workers.
TEST_APPS: weakref.WeakSet[Agendum] = weakref.WeakSet()


def bare_app(settings: Settings | None = None) -> Agendum:
    """An app with no plugins and the test secret, not served (e.g. for a worker of its own)."""
    app = Agendum(settings or Settings(secret_key=TEST_SECRET), PluginHost())
    TEST_APPS.add(app)
    return app


def new_test_host() -> PluginHost:
    """A new host of the built-in and the test plugins, for one app (an app owns its host)."""
    return PluginHost.load((*BUILTIN_PLUGINS, *TEST_PLUGIN_MODULES), entry_point_plugins=False)


def _pg_url(database: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_admin() -> asyncpg.Connection:
    return await asyncpg.connect(POSTGRES_URL.replace("postgres://", "postgresql://", 1), timeout=5)


async def _postgres_reachable() -> str | None:
    try:
        connection = await _pg_admin()
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


class Databases:
    """Makes a fresh database per test by cloning a migrated template."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.count = 0
        self.template = f"agendum_test_{RUN_ID}_template"

    def url(self, name: str) -> str:
        if self.backend == "sqlite":
            return f"sqlite://{self.workdir / name}.sqlite3"
        return _pg_url(name)

    async def create_template(self) -> None:
        # Tortoise caches INSERT/DELETE SQL per connection *name*, not per dialect: clear it
        # when this process moves from one backend to the other.
        EXECUTOR_CACHE.clear()
        if self.backend == "postgres":
            admin = await _pg_admin()
            try:
                await admin.execute(f'CREATE DATABASE "{self.template}"')
            finally:
                await admin.close()
        try:
            await run_migrations(orm_config(Settings(database_url=self.url(self.template), load_entry_points=False), TEST_PLUGINS))
        finally:
            await Tortoise.close_connections()

    async def new(self) -> str:
        self.count += 1
        name = f"agendum_test_{RUN_ID}_{self.count}"
        if self.backend == "sqlite":
            shutil.copyfile(self.workdir / f"{self.template}.sqlite3", self.workdir / f"{name}.sqlite3")
        else:
            admin = await _pg_admin()
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            finally:
                await admin.close()
        return self.url(name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[-1]
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite://") + suffix).unlink(missing_ok=True)
            return
        admin = await _pg_admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    async def drop_template(self) -> None:
        if self.backend == "postgres":
            await self.drop(_pg_url(self.template))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
async def databases(request, tmp_path_factory):
    """The database factory of one backend; every test using it runs on both backends."""
    backend = request.param
    if backend == "postgres":
        problem = await _postgres_reachable()
        if problem:
            if REQUIRE_POSTGRES:
                pytest.fail(f"AGENDUM_REQUIRE_POSTGRES=1 but PostgreSQL at {POSTGRES_URL} is unreachable: {problem}")
            pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} ({problem}); set AGENDUM_TEST_POSTGRES_URL")
    dbs = Databases(backend, tmp_path_factory.mktemp(f"db-{backend}"))
    await dbs.create_template()
    yield dbs
    await dbs.drop_template()


@pytest.fixture
async def database_url(databases):
    """A fresh, migrated database for this test, dropped afterwards."""
    url = await databases.new()
    yield url
    await databases.drop(url)


def make_settings(database_url: str, **overrides) -> Settings:
    """Settings for a test server: explicit limits, debug errors, the test secret."""
    base = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        debug=True,
        login_limit_per_account=RateLimit(5, 60),
        login_limit_per_ip=RateLimit(20, 60),
        load_entry_points=False,
    )
    return base.replace(**overrides)


def free_socket() -> socket.socket:
    """A loopback socket bound to a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Api:
    """A running server and a client for it."""

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
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
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
        yield


async def start_server(settings: Settings, host: PluginHost | None = None):
    """Serve create_app(settings) with uvicorn on a free loopback port; returns (server, task, url)."""
    app = create_app(settings, limiter=MemoryLimiter(), host=host)
    TEST_APPS.add(app.state.agendum)
    sock = free_socket()
    config = uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False)
    server = InLoopServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def api_factory(database_url):
    """Start servers on this test's database with settings overrides; all stopped afterwards."""
    running = []

    async def start(host: PluginHost | None = None, **overrides) -> Api:
        settings = make_settings(database_url, **overrides)
        server, task, url = await start_server(settings, host)
        client = httpx.AsyncClient(base_url=url, timeout=30)
        running.append((server, task, client))
        issued = await create_admin("owner@test.example", "owner-password-1", settings)
        return Api(url=url, client=client, settings=settings, owner_token=issued.token, app=server.config.app.state.agendum)

    yield start
    for server, task, client in running:
        await client.aclose()
        server.should_exit = True
        await task


@pytest.fixture
async def api(api_factory) -> Api:
    """The app on a fresh database, served over real HTTP, with an owner's token."""
    return await api_factory()


def _redis_problem() -> str | None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        client.close()
    return None


@pytest.fixture(scope="session")
def redis_url():
    """The test Redis server (skips when unreachable, fails instead with AGENDUM_REQUIRE_REDIS=1 as
    in CI); the keys under REDIS_PREFIX are deleted afterwards."""
    problem = _redis_problem()
    if problem:
        message = f"Redis unreachable at {REDIS_URL} ({problem}); set AGENDUM_TEST_REDIS_URL"
        if os.environ.get("AGENDUM_REQUIRE_REDIS") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield REDIS_URL
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=REDIS_PREFIX + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def advance_clock():
    """`advance_clock(seconds)`: move core.clock forward (for the apps and workers in this process;
    the workers of every app a test made are woken to look again at once); the real clock is back after the test."""
    from core import clock

    def advance(seconds: float) -> None:
        clock.advance(seconds)
        for app in list(TEST_APPS):
            app.wake_workers()

    yield advance
    clock.reset()


@pytest.fixture
async def smtp():
    """A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""
    from smtp_server import SmtpServer  # it imports this module

    server = await SmtpServer().up()
    yield server
    await server.down()
