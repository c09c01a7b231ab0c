"""A third-party plugin installed as a real distribution is found through the `agendum` entry
point group, with no change to core.

tests/dist/agendum-hello is built into a wheel and pip-installed (offline: --no-deps --no-index,
bounded by a timeout) into a temporary directory that is on sys.path only while a test uses it,
so it cannot leak into `make serve`, the schema snapshot or other tests; the last test checks that
nothing of it is left, in this process and in a fresh interpreter of the project's environment.

As a plugin author would, the sample's own tests (tests/dist/agendum-hello/tests, written with the
test kit and no conftest) run in a fresh virtual environment where Agendum (from this checkout)
and the sample are pip-installed.

Why a wheel built here and not `pip install <dir>`: pip builds a source tree through its build
backend (setuptools), and without build isolation that needs setuptools >= 70.1 or the `wheel`
package in the environment (this venv has neither), while build isolation downloads setuptools.
A wheel is what a plugin author publishes; installing one needs no backend and no network.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from conftest import POSTGRES_URL
from helpers import book, local, make_clinic

from app import load_plugins, printed_schema
from core.models import OutboxMessage
from core.plugins.host import PluginHost
from core.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "dist" / "agendum-hello"
MODULE = "agendum_hello"
PIP_TIMEOUT = 120  # seconds
VENV_TIMEOUT = 600  # seconds: a fresh environment installs Agendum's dependencies (about 30 s here)
# What Agendum's distribution is made of (copied, so that building it writes nothing into the checkout).
SOURCES = ("pyproject.toml", "README.md", "app.py", "core", "schema", "web", "plugins", "agendum_testing")

ENABLE = 'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "hello", enabled: true) { __typename ... on PluginStateList { plugins { name enabled } } } }'
MARKETPLACE = "query($l: ID!) { plugins(locationId: $l) { ... on PluginStateList { plugins { name title version enabled settings } } } }"
HELLO = """query($on: ID!, $off: ID!) {
  on: helloWorld(locationId: $on) { __typename ... on HelloWorld { text } ... on PluginDisabled { plugin message } }
  off: helloWorld(locationId: $off) { __typename ... on HelloWorld { text } ... on PluginDisabled { plugin message } }
}"""


def build_wheel(project: Path, out: Path) -> Path:
    """A pure-Python wheel (PEP 427) of `project`, from the [project] table of its pyproject.toml."""
    config = tomllib.loads((project / "pyproject.toml").read_text())
    meta = config["project"]
    dist = re.sub(r"[-_.]+", "_", meta["name"]).lower()
    info = f"{dist}-{meta['version']}.dist-info"
    files: dict[str, bytes] = {}
    for package in config["tool"]["setuptools"]["packages"]:
        for path in sorted((project / package.replace(".", "/")).glob("*.py")):
            files[path.relative_to(project).as_posix()] = path.read_bytes()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
        f"Summary: {meta['description']}\nRequires-Python: {meta['requires-python']}\n"
    ).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: agendum-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in entries.items()) + "\n"
        for group, entries in meta.get("entry-points", {}).items()
    ).encode()

    def digest(data: bytes) -> str:
        return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()

    files[f"{info}/RECORD"] = (
        "".join(f"{path},sha256={digest(data)},{len(data)}\n" for path, data in files.items()) + f"{info}/RECORD,,\n"
    ).encode()
    wheel = out / f"{dist}-{meta['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def pip_install(wheel: Path, target: Path) -> None:
    """pip-install a wheel into `target` only: no dependencies, no index, no user pip configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-index",
        "--no-cache-dir",
        "--no-compile",
        "--target",
        str(target),
        str(wheel),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    assert done.returncode == 0, f"pip failed:\n{done.stdout}\n{done.stderr}"


def forget_module() -> None:
    for name in [n for n in sys.modules if n == MODULE or n.startswith(f"{MODULE}.")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def hello_entry_points() -> list:
    return [ep for ep in entry_points(group="agendum") if ep.value.split(":")[0] == MODULE]


@pytest.fixture(scope="session")
def hello_site(tmp_path_factory) -> Path:
    """A directory holding the installed distribution (built and installed once per session)."""
    root = tmp_path_factory.mktemp("agendum-hello")
    site = root / "site"
    pip_install(build_wheel(PROJECT, root), site)
    assert (site / MODULE / "__init__.py").is_file() and list(
        site.glob("agendum_hello-1.0.0.dist-info/entry_points.txt")
    )
    return site.resolve()


@pytest.fixture
def installed(hello_site):
    """The distribution on sys.path for this test only."""
    assert MODULE not in sys.modules and not hello_entry_points(), "agendum-hello is already visible"
    sys.path.insert(0, str(hello_site))
    importlib.invalidate_caches()
    try:
        yield hello_site
    finally:
        sys.path.remove(str(hello_site))
        forget_module()


async def test_an_installed_distribution_is_found_through_its_entry_point(installed, api_factory):
    (found,) = hello_entry_points()
    assert (found.name, found.value, found.dist.name) == ("hello", MODULE, "agendum-hello")
    assert Path(found.dist.locate_file("")).resolve() == installed
    assert "hello" not in PluginHost.load([], entry_point_plugins=False).infos
    host = PluginHost.load([], entry_point_plugins=True)
    assert host.infos["hello"].version == "1.0.0"
    assert Path(host.pm.get_plugin("hello").__file__).resolve().is_relative_to(installed)
    assert "helloWorld" not in printed_schema()  # `make schema` and the snapshot test never see it

    api = await api_factory(host=host)
    on, off = await make_clinic(api), await make_clinic(api)
    assert (await api.data(ENABLE, {"l": on.location}))["setPluginEnabled"]["plugins"] == [
        {"name": "hello", "enabled": True}
    ]
    listed = {p["name"]: p for p in (await api.data(MARKETPLACE, {"l": off.location}))["plugins"]["plugins"]}
    assert listed["hello"] == {
        "name": "hello",
        "title": "Hello",
        "version": "1.0.0",
        "enabled": False,
        "settings": {"greeting": "Hello"},
    }

    data = await api.data(HELLO, {"on": on.location, "off": off.location})
    assert data["on"] == {"__typename": "HelloWorld", "text": "Hello, Clinic!"}
    assert data["off"]["__typename"] == "PluginDisabled" and data["off"]["plugin"] == "hello"
    anonymous = await api.data(HELLO, {"on": on.location, "off": off.location}, token=None)
    assert anonymous["on"]["__typename"] == "PermissionDenied"

    settings = 'mutation($l: ID!) { updatePluginSettings(locationId: $l, plugin: "hello", settings: {greeting: "Hi"}) { __typename } }'
    assert (await api.data(settings, {"l": on.location}))["updatePluginSettings"]["__typename"] == "PluginState"
    assert (await api.data(HELLO, {"on": on.location, "off": off.location}))["on"]["text"] == "Hi, Clinic!"

    save = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename ... on ValidationError { message } } }"
    template = {
        "name": "Booked",
        "event": "APPOINTMENT_BOOKED",
        "role": "CUSTOMER",
        "subject": "Booked",
        "body": "{HelloGreeting}!",
    }
    assert (await api.data(save, {"i": {**template, "locationId": on.location}}))["saveEmailTemplate"][
        "__typename"
    ] == "EmailTemplate"
    refused = (await api.data(save, {"i": {**template, "locationId": off.location}}))["saveEmailTemplate"]
    assert refused["__typename"] == "ValidationError" and "hello plugin" in refused["message"]
    booked = await book(api, on, local(on.tz, 3, 10))
    assert (await OutboxMessage.get(appointment_id=int(booked["id"]), role="CUSTOMER")).body == "Hi Ada!"


def test_nothing_of_the_distribution_is_left_behind():
    """Outside the test that installs it, neither this process nor the project's environment sees it."""
    assert MODULE not in sys.modules and importlib.util.find_spec(MODULE) is None
    assert not hello_entry_points()
    assert "hello" not in load_plugins(Settings(load_entry_points=True)).infos
    probe = (
        "import importlib.util, json; from importlib.metadata import entry_points; "
        f"print(json.dumps([[ep.name, ep.value] for ep in entry_points(group='agendum')] + [importlib.util.find_spec({MODULE!r}) is not None]))"
    )
    fresh = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert fresh.returncode == 0, fresh.stderr
    *found, importable = json.loads(fresh.stdout)
    assert not importable and not [ep for ep in found if ep[1].split(":")[0] == MODULE], (
        f"the project's environment sees: {fresh.stdout}"
    )


def test_the_sample_plugins_own_tests_pass_with_the_kit_in_a_fresh_environment(tmp_path):
    """pip-install Agendum and agendum-hello into a new virtual environment, then run the sample's
    tests there: the kit comes with Agendum, the sample has no conftest, pytest-asyncio is strict."""
    checkout, sample, env_dir = tmp_path / "agendum", tmp_path / "agendum-hello", tmp_path / "venv"
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, checkout / name)
    shutil.copytree(PROJECT, sample, ignore=shutil.ignore_patterns("__pycache__"))
    assert not list(sample.rglob("conftest.py"))
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    install = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        str(checkout),
        str(sample),
        "pytest",
        "pytest-asyncio",
        "httpx",
    ]
    done = subprocess.run(install, capture_output=True, text=True, timeout=VENV_TIMEOUT)
    assert done.returncode == 0, f"pip failed:\n{done.stdout}\n{done.stderr}"
    env = {
        **os.environ,
        "AGENDUM_TEST_POSTGRES_URL": POSTGRES_URL,
        "AGENDUM_TEST_DATABASE_PREFIX": "agendum_hello_test_",
    }
    run = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"],
        cwd=sample,
        env=env,
        capture_output=True,
        text=True,
        timeout=VENV_TIMEOUT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    passed = re.findall(r"^PASSED (tests/test_hello.py::\S+)", run.stdout, re.MULTILINE)
    backends = ["sqlite", "postgres"] if os.environ.get("AGENDUM_REQUIRE_POSTGRES") == "1" else ["sqlite"]
    for test in ("test_greets_only_where_enabled", "test_the_booking_email_greets_the_customer"):
        for backend in backends:
            assert f"tests/test_hello.py::{test}[{backend}]" in passed, run.stdout
