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
    probe = ("import sys, json, agendum_testing.plugin; "
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'strawberry', 'tortoise', 'starlette', 'app', 'core'})))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_database_names_carry_the_configured_prefix_and_a_run_id(pytester, monkeypatch):
    monkeypatch.setenv("AGENDUM_TEST_DATABASE_PREFIX", "kitcheck_")
    monkeypatch.delenv("AGENDUM_TEST_POSTGRES_URL", raising=False)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasyncio_mode = "auto"\n')
    pytester.makepyfile(test_names="""
        import re
        seen = []

        async def test_one(agendum_database_url, agendum_backend):
            seen.append(agendum_database_url)
            assert agendum_backend == "sqlite"

        async def test_two(agendum_database_url):
            seen.append(agendum_database_url)
            first, second = (re.search(r"/(kitcheck_[0-9a-f]{10}_\\d+)\\.sqlite3$", url).group(1) for url in seen)
            assert first != second and first.rsplit("_", 1)[0] == second.rsplit("_", 1)[0]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
