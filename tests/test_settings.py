"""The one settings model (core/settings.py): one true/false parser for every switch, every bad
value refused in one line naming its variable (by the model, by `create_app` from the environment
and by the `agendum` command, before anything starts), AGENDUM_BASE_URL required outside demo
mode, and README's table of settings generated from the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_SECRET, free_socket

from app import create_app, listening_url
from core.settings import DEMO_BASE_URL, DEMO_SECRET, RateLimit, Settings, SettingsError, settings_table, variables

AGENDUM = Path(sys.executable).with_name("agendum")
README = Path(__file__).resolve().parent.parent / "README.md"
SWITCHES = {
    "AGENDUM_DEBUG": "debug",
    "AGENDUM_DEMO": "demo",
    "AGENDUM_EXPOSE_PROCESS_ID": "expose_process_id",
    "AGENDUM_LOAD_ENTRY_POINTS": "load_entry_points",
    "AGENDUM_RUN_WORKER": "run_worker",
}
SPELLINGS = {
    "true": True,
    "TRUE": True,
    "1": True,
    "yes": True,
    "Yes": True,
    "on": True,
    " On ": True,
    "false": False,
    "False": False,
    "0": False,
    "no": False,
    "NO": False,
    "off": False,
    "Off": False,
}


def test_every_switch_reads_the_same_spellings():
    assert {name for name, field in variables().items() if field.annotation is bool} == set(SWITCHES)
    for variable, field in SWITCHES.items():
        for text, value in SPELLINGS.items():
            assert getattr(Settings.from_env({variable: text}), field) is value, (variable, text)


@pytest.mark.parametrize("variable", sorted(SWITCHES))
@pytest.mark.parametrize("text", ["ture", "disabled", "enabled", "2", "y", "", "nein"])
def test_every_switch_refuses_anything_else(variable, text):
    # AGENDUM_LOAD_ENTRY_POINTS=disabled meant enabled, AGENDUM_DEBUG=ture meant off: both silently.
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: text})
    assert str(refused.value) == f"{variable}: {text!r} is not true or false (use true/false, 1/0, yes/no or on/off)"


@pytest.mark.parametrize(
    "variable, text, problem",
    [
        (
            "AGENDUM_DATABASE_URL",
            "foo",
            "not a database URL (it has no scheme://): use sqlite://path.sqlite3 or postgres://",
        ),
        ("AGENDUM_DATABASE_URL", "mysql://u:hunter2@db/agendum", "not a database URL (the scheme is 'mysql')"),
        ("AGENDUM_DATABASE_URL", "postgres://u:hunter2@db:port/agendum", "the port is not a number"),
        ("AGENDUM_DATABASE_URL", "postgres://u:hunter2@db:5432", "a postgres:// URL names a host and a database"),
        ("AGENDUM_DATABASE_URL", "sqlite://", "a sqlite:// URL names a file"),
        ("AGENDUM_DATABASE_URL", "", "it has no scheme://"),
        ("AGENDUM_CORS_ORIGINS", "app.example.com", "'app.example.com' is not an origin scheme://host[:port]"),
        (
            "AGENDUM_CORS_ORIGINS",
            "https://ok.example, https://app.example.com/",
            "'https://app.example.com/' is not an origin",
        ),
        ("AGENDUM_CORS_ORIGINS", "*", "'*' is not an origin"),
        ("AGENDUM_CORS_ORIGINS", "https://app.example.com:http", "'https://app.example.com:http' is not an origin"),
        ("AGENDUM_BASE_URL", "0.0.0.0:8000", "'0.0.0.0:8000' is not an http:// or https:// address"),
        (
            "AGENDUM_BASE_URL",
            "book.example.com",
            "is not an http:// or https:// address, e.g. https://book.example.com",
        ),
        ("AGENDUM_BASE_URL", "ftp://book.example.com", "is not an http:// or https:// address"),
        ("AGENDUM_BASE_URL", "https://", "is not an http:// or https:// address"),
        (
            "AGENDUM_REDIS_URL",
            "http://u:hunter2@cache:6379",
            "not a redis://, rediss:// or unix:// URL (the scheme is 'http')",
        ),
        ("AGENDUM_MAIL_FROM", "", "'' is not an email address"),
        ("AGENDUM_SLOT_LIMIT_PER_IP", "30", "'30' is not written attempts/seconds"),
        ("AGENDUM_SLOT_BUDGET", "", "'' is not a whole number from 1 to 100000000"),
    ],
)
def test_a_bad_value_is_one_line_naming_its_variable(variable, text, problem):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({variable: text})
    message = str(refused.value)
    assert message.startswith(f"{variable}: ") and problem in message, message
    assert "\n" not in message and "hunter2" not in message


def test_several_bad_values_are_one_line_each():
    environ = {
        "AGENDUM_DATABASE_URL": "foo",
        "AGENDUM_CORS_ORIGINS": "app.example.com",
        "AGENDUM_BASE_URL": "0.0.0.0:8000",
        "AGENDUM_DEBUG": "ture",
        "AGENDUM_SMTP_URL": "smtp://u:hunter2@host:0",
        "AGENDUM_SECRET_KEY": TEST_SECRET,
    }
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    lines = str(refused.value).splitlines()
    assert sorted(line.partition(":")[0] for line in lines) == sorted(set(environ) - {"AGENDUM_SECRET_KEY"}), lines
    assert "hunter2" not in str(refused.value)


def test_good_values_are_read_as_the_app_uses_them():
    settings = Settings.from_env(
        {
            "AGENDUM_DATABASE_URL": "postgresql://u:p@db.internal:5432/agendum",
            "AGENDUM_BASE_URL": " https://book.example.com/ ",
            "AGENDUM_CORS_ORIGINS": "https://app.example.com, http://localhost:3000,,",
            "AGENDUM_LINK_LIMIT_PER_IP": "50/30",
            "AGENDUM_STAFF_TOKEN_HOURS": " 48 ",
            "AGENDUM_TRUSTED_PROXIES": "10.0.0.0/8",
            "AGENDUM_UNRELATED": "x",
            "AGENDUM_MAX_TOKENS": "5",  # not a variable: set by code only
        }
    )
    assert settings.base_url == "https://book.example.com"
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:3000")
    assert (settings.link_limit_per_ip, settings.staff_token_hours, settings.max_tokens) == (
        RateLimit(50, 30),
        48,
        2000,
    )
    assert str(settings.trusted_proxies[0]) == "10.0.0.0/8"
    assert "u:p" not in repr(settings)  # nor the keys: the repr leaves out what may hold a password
    assert Settings(base_url="https://a.example").replace(staff_token_hours=2).base_url == "https://a.example"
    with pytest.raises(SettingsError, match="^AGENDUM_STAFF_TOKEN_HOURS: 0 is not a whole number of hours"):
        Settings(staff_token_hours=0)


def test_the_base_url_is_required_outside_demo_mode():
    with pytest.raises(SettingsError, match=r"^AGENDUM_BASE_URL is not set: set it to the public address"):
        Settings(secret_key=TEST_SECRET).checked()
    with pytest.raises(SettingsError) as both:
        Settings().checked()
    assert [line.split(" ", 1)[0] for line in str(both.value).splitlines()] == [
        "AGENDUM_SECRET_KEY",
        "AGENDUM_BASE_URL",
    ]
    demo = Settings(demo=True).checked()
    assert (demo.base_url, demo.secret_key) == (DEMO_BASE_URL, DEMO_SECRET)
    assert Settings(secret_key=TEST_SECRET).with_secret_key().base_url == ""  # migrations need the key alone
    assert [listening_url(host, 8000) for host in ("127.0.0.1", "::1")] == [
        "http://127.0.0.1:8000",
        "http://[::1]:8000",
    ]


def test_create_app_from_the_environment_refuses_bad_values(monkeypatch):
    for name in [name for name in os.environ if name.startswith("AGENDUM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AGENDUM_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("AGENDUM_CORS_ORIGINS", "https://app.example.com/")
    with pytest.raises(SettingsError, match=r"^AGENDUM_CORS_ORIGINS: 'https://app.example.com/' is not an origin"):
        create_app()
    monkeypatch.setenv("AGENDUM_CORS_ORIGINS", "https://app.example.com")
    with pytest.raises(SettingsError, match=r"^AGENDUM_BASE_URL is not set"):
        create_app()


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    clean.update(
        AGENDUM_DATABASE_URL=f"sqlite://{tmp_path / 'agendum.sqlite3'}",
        AGENDUM_SECRET_KEY=TEST_SECRET,
        AGENDUM_BASE_URL="https://clinic.example",
        AGENDUM_SMTP_URL="smtp://127.0.0.1:9",
    )
    return clean


def _agendum(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(AGENDUM), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def _port() -> str:
    with free_socket() as sock:
        return str(sock.getsockname()[1])


@pytest.mark.parametrize("command", [("serve",), ("serve", "--demo"), ("worker", "--until-idle"), ("migrate",)])
def test_the_command_refuses_bad_values_in_one_line_each_before_starting(tmp_path, env, command):
    bad = {"AGENDUM_DATABASE_URL": "foo", "AGENDUM_CORS_ORIGINS": "localhost:3000", "AGENDUM_RUN_WORKER": "ture"}
    args = [*command, "--port", _port()] if command[0] == "serve" else list(command)
    refused = _agendum(tmp_path, {**env, **bad}, *args)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    lines = refused.stderr.splitlines()
    assert sorted(lines) == sorted(
        [
            "agendum: AGENDUM_DATABASE_URL: not a database URL (it has no scheme://): use sqlite://path.sqlite3 or "
            "postgres://user:password@host:5432/database",
            "agendum: AGENDUM_CORS_ORIGINS: 'localhost:3000' is not an origin scheme://host[:port], e.g. "
            "https://app.example.com (no path, no trailing slash)",
            "agendum: AGENDUM_RUN_WORKER: 'ture' is not true or false (use true/false, 1/0, yes/no or on/off)",
        ]
    ), refused.stderr
    assert refused.stdout == "" and not list(tmp_path.iterdir())  # nothing started, no database file


def test_serve_on_a_network_without_a_base_url_refuses_to_start(tmp_path, env):
    del env["AGENDUM_BASE_URL"]
    refused = _agendum(tmp_path, env, "serve", "--host", "0.0.0.0", "--port", _port())
    assert refused.returncode == 1
    assert refused.stderr.startswith("agendum: AGENDUM_BASE_URL is not set: set it to the public address"), (
        refused.stderr
    )
    assert len(refused.stderr.splitlines()) == 1 and "Traceback" not in refused.stderr
    assert not (tmp_path / "agendum.sqlite3").exists()


def test_the_readme_table_is_the_model():
    readme = README.read_text()
    assert settings_table() in readme, "README's settings table differs from core.settings.settings_table()"
    table = readme.split("| variable | meaning | default |", 1)[1].split("\n\n", 1)[0]
    listed = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    assert listed == list(variables()) and all(field.description for field in variables().values())
