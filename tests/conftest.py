"""Agendum's own harness: a thin layer over the test kit (agendum_testing, the pytest plugin we
ship) under the names the suite has always used, the test-only plugins, and Redis.

Every test database has the tables of the built-in and the test plugins; apps the suite serves
install the built-in plugins only unless a test passes its own host."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
from browser import browser, phone, screenshot  # noqa: F401 - browser fixtures (tests/browser.py)

from agendum_testing.server import (  # noqa: F401 - names the suite's modules import from here
    APPS as TEST_APPS,
    SECRET as TEST_SECRET,
    Api,
    InLoopServer,
    bare_app,
    free_socket,
    make_settings,
    start_server,
)
from app import BUILTIN_PLUGINS
from core.plugins.host import PluginHost

__all__ = [
    "TEST_APPS",
    "TEST_SECRET",
    "Api",
    "InLoopServer",
    "bare_app",
    "free_socket",
    "make_settings",
    "start_server",
    "browser",
    "phone",
    "screenshot",
]

POSTGRES_URL = os.environ.get("AGENDUM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AGENDUM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = f"agendum-test:{uuid.uuid4().hex[:12]}:"  # the keys of this run's own limiters
# Test-only plugins are packages in tests/fixture_plugins (names unlike any real package).
sys.path.insert(0, str(Path(__file__).resolve().parent / "fixture_plugins"))
TEST_PLUGIN_MODULES = ("agendum_probe", "agendum_witness")
# Every database the tests make has the tables of the built-in and the test plugins.
TEST_PLUGINS = PluginHost.load((*BUILTIN_PLUGINS, *TEST_PLUGIN_MODULES), entry_point_plugins=False)


def new_test_host() -> PluginHost:
    """A new host of the built-in and the test plugins, for one app (an app owns its host)."""
    return PluginHost.load((*BUILTIN_PLUGINS, *TEST_PLUGIN_MODULES), entry_point_plugins=False)


@pytest.fixture(scope="session")
def agendum_plugins():
    """The kit's databases get the tables of the built-in and the test plugins."""
    return (*BUILTIN_PLUGINS, *TEST_PLUGIN_MODULES)


@pytest.fixture(scope="session")
def databases(agendum_databases):
    """The database factory of one backend; every test using it runs on both backends."""
    return agendum_databases


@pytest.fixture
def database_url(agendum_database_url):
    """A fresh, migrated database for this test, dropped afterwards."""
    return agendum_database_url


@pytest.fixture
def api_factory(agendum_api_factory):
    """`await api_factory(host=None, **settings_overrides)`: serve an app (the built-in plugins
    unless `host` says otherwise) on this test's database."""

    def start(host: PluginHost | None = None, **overrides):
        return agendum_api_factory(host, plugins=BUILTIN_PLUGINS, **overrides)

    return start


@pytest.fixture
async def api(api_factory) -> Api:
    """The app on a fresh database, served over real HTTP, with an owner's token."""
    return await api_factory()


@pytest.fixture
def advance_clock(agendum_clock):
    """`advance_clock(seconds)`: move core.clock forward (see agendum_testing.plugin.Clock)."""
    return agendum_clock.advance


@pytest.fixture
def smtp(agendum_mailbox):
    """A real SMTP server (aiosmtpd) on a free loopback port, recording what it receives."""
    return agendum_mailbox


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
