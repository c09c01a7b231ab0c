"""The test kit Agendum ships (agendum_testing, the `pytest11` plugin): importing it loads neither
strawberry nor tortoise, and its databases are named with the configured prefix and a run id.
(tests/test_plugin_distribution.py runs a third-party plugin's own tests with it in a fresh
virtual environment; the suite itself runs on it through tests/conftest.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

pytest_plugins = ["pytester"]


def test_the_plugin_is_registered_and_importing_it_loads_no_app():
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "agendum"]
    assert plugin.value == "agendum_testing.plugin"
    probe = (
        "import sys, json, agendum_testing.plugin; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'strawberry', 'tortoise', 'starlette', 'app', 'core'})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_kit_in_a_project_of_its_own(pytester, monkeypatch):
    """A fresh project using only the kit (auto mode): database names carry the configured prefix
    and a run id; the marker chooses the apps' plugins; the ORM alone; the clock moves and comes back."""
    monkeypatch.setenv("AGENDUM_TEST_DATABASE_PREFIX", "kitcheck_")
    monkeypatch.delenv("AGENDUM_TEST_POSTGRES_URL", raising=False)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n')
    pytester.makepyfile(
        test_kit="""
        import datetime as dt
        import re

        import pytest

        seen = []
        PLUGINS = 'query($l: ID!) { plugins(locationId: $l) { ... on PluginStateList { plugins { name } } } }'

        async def names(api, clinic):
            return sorted(p["name"] for p in (await api.data(PLUGINS, {"l": clinic.location}))["plugins"]["plugins"])

        async def test_one(agendum_database_url, agendum_backend):
            seen.append(agendum_database_url)
            assert agendum_backend == "sqlite"

        async def test_two(agendum_database_url):
            seen.append(agendum_database_url)
            first, second = (re.search(r"/(kitcheck_[0-9a-f]{10}_\\d+)\\.sqlite3$", url).group(1) for url in seen)
            assert first != second and first.rsplit("_", 1)[0] == second.rsplit("_", 1)[0]

        async def test_the_built_in_plugins_by_default(agendum_api, agendum_clinic):
            assert await names(agendum_api, agendum_clinic) == ["action_links", "client_portal", "one_time_links"]

        @pytest.mark.agendum_plugins("plugins.action_links")
        async def test_the_marker_chooses(agendum_api, agendum_clinic):
            assert await names(agendum_api, agendum_clinic) == ["action_links"]

        async def test_the_orm_alone(agendum_orm):
            from core.models import Location
            await Location.create(name="Here", timezone="UTC", currency="EUR")
            assert await Location.all().count() == 1 and agendum_orm.asgi is None

        def test_the_clock_moves(agendum_clock):
            before = agendum_clock.now()
            agendum_clock.advance(3600)
            assert agendum_clock.now() - before >= dt.timedelta(hours=1)

        def test_and_comes_back():
            from core import clock
            assert abs(clock.now() - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)
    """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=7)
