"""The example plugin of docs/plugins.md works: its code blocks (those starting with a
`file:` comment) are written out to a temporary directory, imported, and run in the real app —
settings, the gated GraphQL field, the placeholder in an email that arrives over SMTP, the page."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_URL
from helpers import book, local, make_clinic

from core.models import OutboxMessage
from core.plugins.host import PluginHost

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
BLOCK = re.compile(r"^```[a-z]*\n(?:#|\{#) file: (?P<path>\S+?)(?: #\}| \([^)\n]*\))?\n(?P<body>.*?)^```", re.S | re.M)
MODULE = "agendum_greeting"

ENABLE = 'mutation($l: ID!, $e: Boolean!) { setPluginEnabled(locationIds: [$l], plugin: "greeting", enabled: $e) { __typename } }'
SETTINGS = """mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "greeting", settings: $s) {
  __typename ... on PluginState { settings } ... on ValidationError { field message } } }"""
GREETING = "query($l: ID!) { greeting(locationId: $l) { __typename ... on Greeting { text showPage } ... on PluginDisabled { plugin } } }"
SAVE = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename ... on ValidationError { message } } }"


def guide_files() -> dict[str, str]:
    """The example's files, by path, as the guide shows them."""
    return {m["path"]: m["body"] for m in BLOCK.finditer(GUIDE.read_text())}


def without_nonce(html: str) -> str:
    return re.sub(r'nonce="[^"]*"', "", html)


def test_the_guide_shows_the_whole_example():
    assert set(guide_files()) == {
        f"{MODULE}/__init__.py",
        f"{MODULE}/templates/welcome.html",
        "pyproject.toml",
        "tests/test_greeting.py",
    }


@pytest.fixture(scope="session")
def example_dir(tmp_path_factory) -> Path:
    """The example written out once per session (its template folder is registered once, by path)."""
    root = tmp_path_factory.mktemp("guide-example")
    for path, body in guide_files().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(body)
    return root


@pytest.fixture
def greeting(example_dir):
    """The example's module, importable only during the test."""
    sys.path.insert(0, str(example_dir))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(MODULE)
    finally:
        sys.path.remove(str(example_dir))
        for name in [n for n in sys.modules if n == MODULE or n.startswith(f"{MODULE}.")]:
            del sys.modules[name]
        importlib.invalidate_caches()


async def test_the_guides_greeting_plugin_works(greeting, smtp, api_factory):
    api = await api_factory(host=PluginHost([greeting]), smtp_url=smtp.url())
    on, off = await make_clinic(api), await make_clinic(api)
    assert (await api.data(ENABLE, {"l": on.location, "e": True}))["setPluginEnabled"][
        "__typename"
    ] == "PluginStateList"

    # The field: the greeting where enabled, PluginDisabled elsewhere.
    assert (await api.data(GREETING, {"l": on.location}))["greeting"] == {
        "__typename": "Greeting",
        "text": "Welcome, Clinic!",
        "showPage": True,
    }
    assert (await api.data(GREETING, {"l": off.location}))["greeting"] == {
        "__typename": "PluginDisabled",
        "plugin": "greeting",
    }

    # Settings: camelCase keys, refusals naming the field, the plugin's own validate_settings.
    changed = (await api.data(SETTINGS, {"l": on.location, "s": {"greeting": "Bienvenue"}}))["updatePluginSettings"]
    assert changed == {"__typename": "PluginState", "settings": {"greeting": "Bienvenue", "showPage": True}}
    for bad, field in (
        ({"greeting": ""}, "settings.greeting"),
        ({"showPage": "sometimes"}, "settings.showPage"),
        ({"greeting": "Welcome to the Clinic"}, "settings.greeting"),
        ({"colour": "red"}, "settings.colour"),
    ):
        refused = (await api.data(SETTINGS, {"l": on.location, "s": bad}))["updatePluginSettings"]
        assert (refused["__typename"], refused["field"]) == ("ValidationError", field), refused
    assert (await api.data(GREETING, {"l": on.location}))["greeting"]["text"] == "Bienvenue, Clinic!"

    # The page: in the location's branding where enabled, the plain 404 elsewhere or when switched off.
    page = await api.client.get(f"/greeting/{on.location}")
    assert page.status_code == 200 and '<h1 class="greeting">Bienvenue</h1>' in page.text
    assert "script-src" not in page.headers["content-security-policy"] and page.headers["cache-control"] == "no-store"
    missing = await api.client.get("/greeting/999999")
    for path in (f"/greeting/{off.location}", "/greeting/99999999999", "/greeting/0"):
        answer = await api.client.get(path)
        assert (answer.status_code, without_nonce(answer.text)) == (404, without_nonce(missing.text)), path
    await api.data(SETTINGS, {"l": on.location, "s": {"showPage": False}})
    assert (await api.client.get(f"/greeting/{on.location}")).status_code == 404

    # The placeholder: accepted where enabled, filled in the email that arrives over SMTP.
    template = {
        "name": "Booked",
        "event": "APPOINTMENT_BOOKED",
        "role": "CUSTOMER",
        "subject": "Booked",
        "body": "{GreetingLine}\nSee you soon.\n",
    }
    assert (await api.data(SAVE, {"i": {**template, "locationId": on.location}}))["saveEmailTemplate"][
        "__typename"
    ] == "EmailTemplate"
    refused = (await api.data(SAVE, {"i": {**template, "locationId": off.location}}))["saveEmailTemplate"]
    assert "{GreetingLine} comes from the greeting plugin, which is not enabled" in refused["message"]
    booked = await book(api, on, local(on.tz, 3, 10))
    queued = await OutboxMessage.get(appointment_id=int(booked["id"]), role="CUSTOMER")
    await smtp.wait_for(1)
    arrived = next(mail for mail in smtp.received if mail.message_id == queued.message_id)
    assert arrived.recipients == ["ada@example.com"]
    assert (
        arrived.message.get_body(("plain",))
        .get_content()
        .replace("\r\n", "\n")
        .startswith("Bienvenue, Ada!\nSee you soon.")
    )


def test_the_guides_tests_pass_with_the_kit_and_no_conftest(example_dir, tmp_path):
    """ "Testing a plugin": the guide's pyproject and test file, in a project where the example is
    installed (an `agendum` entry point), pass with the kit alone, on both backends."""
    project = tmp_path / "agendum-greeting"
    shutil.copytree(example_dir, project)
    info = project / "agendum_greeting-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: agendum-greeting\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[agendum]\ngreeting = {MODULE}\n")
    env = {**os.environ, "PYTHONPATH": str(project), "AGENDUM_TEST_POSTGRES_URL": POSTGRES_URL}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    passed = set(re.findall(r"^PASSED tests/test_greeting.py::(\S+)", run.stdout, re.MULTILINE))
    backends = ["sqlite", "postgres"] if os.environ.get("AGENDUM_REQUIRE_POSTGRES") == "1" else ["sqlite"]
    expected = {
        f"{test}[{backend}]"
        for test in ("test_greeting_answers_where_enabled", "test_the_booking_email_carries_the_greeting")
        for backend in backends
    }
    assert expected <= passed, run.stdout
