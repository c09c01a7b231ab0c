"""The pytest plugin of the test kit (entry point `pytest11: agendum`): options and fixtures.

Every fixture is named `agendum_*`. Async fixtures are pytest-asyncio's, so they work in its
`auto` and `strict` modes. Nothing here imports the app until a fixture runs.

Configuration (an environment variable wins over the ini option of the same meaning):
- `AGENDUM_TEST_POSTGRES_URL` / ini `agendum_postgres_url`: a PostgreSQL database to connect to
  while creating test databases; when set, every test using a database runs on SQLite and on
  PostgreSQL (unreachable: skipped, or failed with `AGENDUM_REQUIRE_POSTGRES=1`).
- `AGENDUM_TEST_DATABASE_PREFIX` / ini `agendum_database_prefix`: the start of every test
  database's name (default `agendum_test_`; a random id per run follows).
"""

from __future__ import annotations

import os

import pytest

try:
    import pytest_asyncio

    async_fixture = pytest_asyncio.fixture
except ImportError:  # pragma: no cover - the kit's async fixtures need pytest-asyncio (agendum[test])
    async_fixture = pytest.fixture


def pytest_addoption(parser: pytest.Parser) -> None:
    """The kit's ini options."""
    parser.addini(
        "agendum_postgres_url", "PostgreSQL URL for test databases (env AGENDUM_TEST_POSTGRES_URL wins)", default=""
    )
    parser.addini(
        "agendum_database_prefix",
        "start of test database names (env AGENDUM_TEST_DATABASE_PREFIX wins)",
        default="agendum_test_",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's marker."""
    config.addinivalue_line(
        "markers",
        "agendum_plugins(*plugins): the plugins (modules or module names) the test's apps "
        "install, instead of the agendum_plugins fixture's (whose models every database has)",
    )


def _option(config: pytest.Config, variable: str, ini: str) -> str:
    return os.environ.get(variable) or config.getini(ini)


def postgres_url(config: pytest.Config) -> str:
    """The configured PostgreSQL URL ('' when the tests use SQLite only)."""
    return _option(config, "AGENDUM_TEST_POSTGRES_URL", "agendum_postgres_url")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses a database once per backend: SQLite, and PostgreSQL when configured."""
    if "agendum_backend" in metafunc.fixturenames:
        backends = ["sqlite", "postgres"] if postgres_url(metafunc.config) else ["sqlite"]
        metafunc.parametrize("agendum_backend", backends, indirect=True, scope="session")


# ------------------------------------------------------------------ databases


@pytest.fixture(scope="session")
def agendum_plugins() -> tuple:
    """The plugins (modules, objects or module names) whose models every test database has, and that apps install unless a
    test says otherwise (marker `agendum_plugins`): Agendum's built-in plugins and every plugin of
    the `agendum` entry points. Override this fixture to choose."""
    from importlib.metadata import entry_points

    from app import BUILTIN_PLUGINS

    return (*BUILTIN_PLUGINS, *(ep.load() for ep in entry_points(group="agendum")))


@pytest.fixture(scope="session")
def agendum_backend(request) -> str:
    """The database backend of this test: `sqlite` or `postgres`."""
    return getattr(request, "param", "sqlite")


@async_fixture(scope="session", loop_scope="session")
async def agendum_databases(agendum_backend, agendum_plugins, tmp_path_factory, pytestconfig):
    """The factory of fresh migrated databases on this test's backend (a migrated template per run)."""
    from agendum_testing.databases import Databases, postgres_problem
    from agendum_testing.server import host_of

    admin_url = postgres_url(pytestconfig) if agendum_backend == "postgres" else ""
    if admin_url:
        problem = await postgres_problem(admin_url)
        if problem:
            message = f"PostgreSQL unreachable at {admin_url} ({problem}); set AGENDUM_TEST_POSTGRES_URL"
            if os.environ.get("AGENDUM_REQUIRE_POSTGRES") == "1":
                pytest.fail(f"AGENDUM_REQUIRE_POSTGRES=1 but {message}")
            pytest.skip(message)
    prefix = _option(pytestconfig, "AGENDUM_TEST_DATABASE_PREFIX", "agendum_database_prefix")
    databases = Databases(
        agendum_backend, tmp_path_factory.mktemp(f"db-{agendum_backend}"), admin_url=admin_url, prefix=prefix
    )
    await databases.create_template(host_of(agendum_plugins))
    yield databases
    await databases.drop_template()


@async_fixture
async def agendum_database_url(agendum_databases) -> str:
    """The URL of a fresh, migrated database for this test, dropped afterwards."""
    url = await agendum_databases.new()
    yield url
    await agendum_databases.drop(url)


@async_fixture
async def agendum_orm(agendum_database_url, agendum_plugins):
    """The ORM on this test's database, with no server (where HTTP is not the subject); an
    unserved app (`core.agendum.Agendum`) of the chosen plugins and the test settings."""
    from tortoise import Tortoise

    from agendum_testing.server import bare_app, host_of, make_settings
    from app import orm_config

    host = host_of(agendum_plugins)
    settings = make_settings(agendum_database_url)
    await Tortoise.init(config=orm_config(settings, host))
    try:
        yield bare_app(settings, host)
    finally:
        await Tortoise.close_connections()


# ------------------------------------------------------------------ the app over HTTP


@async_fixture
async def agendum_api_factory(request, agendum_database_url, agendum_plugins):
    """`await agendum_api_factory(host=None, plugins=None, **settings_overrides)`: serve an app on
    this test's database (uvicorn on a loopback port) and return its `Api` (GraphQL client with an
    owner's token); every app is stopped after the test."""
    from agendum_testing.server import ApiFactory

    marker = request.node.get_closest_marker("agendum_plugins")
    factory = ApiFactory(agendum_database_url, marker.args if marker else agendum_plugins)
    yield factory
    await factory.stop()


@async_fixture
async def agendum_api(agendum_api_factory):
    """The app served over real HTTP with an owner's token (`await agendum_api.data(query,
    variables)`). It runs no outbox worker: `agendum_send_due_emails()` sends what is due."""
    return await agendum_api_factory(run_worker=False)


@async_fixture
async def agendum_clinic_factory(agendum_api):
    """`await agendum_clinic_factory(timezone=..., roster=..., duration=..., rules=...)`: a new
    location with a rostered calendar, a service and a customer (`agendum_testing.clinic.Clinic`)."""
    from agendum_testing.clinic import make_clinic

    async def make(**options):
        return await make_clinic(agendum_api, **options)

    return make


@async_fixture
async def agendum_clinic(agendum_clinic_factory):
    """A clinic (location, calendar open all week, a 30-minute service, a customer) made through GraphQL."""
    return await agendum_clinic_factory()


@async_fixture
async def agendum_enable_plugin(agendum_api):
    """`await agendum_enable_plugin(location_id, "plugin", enabled=True)`: switch a plugin on (or off) at a location."""
    from agendum_testing.clinic import enable_plugin

    async def enable(location: str, plugin: str, enabled: bool = True) -> None:
        await enable_plugin(agendum_api, location, plugin, enabled)

    return enable


# ------------------------------------------------------------------ email and time


@async_fixture
async def agendum_mailbox():
    """A real SMTP server (aiosmtpd) on a free loopback port; what it accepted is `.received`."""
    from agendum_testing.smtp import SmtpServer

    server = await SmtpServer().up()
    yield server
    await server.down()


@async_fixture
async def agendum_send_due_emails(agendum_api, agendum_mailbox):
    """`await agendum_send_due_emails()`: deliver every due outbox message of the app to the
    mailbox now; returns the messages that arrived by this call."""
    from core.email.delivery import Worker
    from core.email.smtp import parse_smtp_url

    async def send() -> list:
        before = len(agendum_mailbox.received)
        await Worker(agendum_api.app, parse_smtp_url(agendum_mailbox.url(5)), agendum_api.settings.mail_from).drain()
        return agendum_mailbox.received[before:]

    return send


class Clock:
    """Moves `core.clock` (for every app and worker in this process): `clock(seconds)` or
    `clock.advance(seconds)`; the workers of every app the kit made look again at once."""

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        from agendum_testing.server import APPS
        from core import clock

        clock.advance(seconds)
        for app in list(APPS):
            app.wake_workers()

    __call__ = advance

    def now(self):
        """The instant the app sees now."""
        from core import clock

        return clock.now()


@pytest.fixture
def agendum_clock():
    """A clock to move (`agendum_clock.advance(3600)`); the real clock is back after the test."""
    yield Clock()
    from core import clock

    clock.reset()
