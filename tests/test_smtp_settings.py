"""AGENDUM_SMTP_URL, AGENDUM_MAIL_FROM and AGENDUM_RUN_WORKER: what is accepted, and what is refused
with a message that names the setting (and never repeats a password) — by the parser, by
`create_app`, and by the `agendum` command before it touches anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEST_SECRET, free_socket

from app import create_app
from core.email.smtp import SmtpConfig, parse_smtp_url
from core.settings import Settings, SettingsError

AGENDUM = Path(sys.executable).with_name("agendum")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("smtp://mail.example.com", SmtpConfig("mail.example.com", 25)),
        ("smtp://host:25", SmtpConfig("host", 25)),
        (
            "smtp://user:pass@host:587?starttls=true",
            SmtpConfig("host", 587, "user", "pass", use_tls=False, start_tls=True),
        ),
        ("smtp://user:pass@host:587?starttls=false", SmtpConfig("host", 587, "user", "pass")),
        ("smtps://host", SmtpConfig("host", 465, use_tls=True)),
        (
            "smtps://apikey:s%40cr%3At%2F%20x@smtp.relay.example:2465",
            SmtpConfig("smtp.relay.example", 2465, "apikey", "s@cr:t/ x", use_tls=True),
        ),
        ("smtp://us%C3%A9r:p@host", SmtpConfig("host", 25, "usér", "p")),
        ("SMTP://Host.Example:2525/?timeout=2.5", SmtpConfig("host.example", 2525, timeout=2.5)),
        ("smtp://[::1]:1025", SmtpConfig("::1", 1025)),
        ("  smtp://host  ", SmtpConfig("host", 25)),
    ],
)
def test_valid_smtp_urls(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url, problem",
    [
        ("", "empty"),
        ("mail.example.com:25", "does not start with smtp:// or smtps://"),
        ("http://mail.example.com", "the scheme is 'http', not smtp or smtps"),
        ("smtpx://host", "the scheme is 'smtpx'"),
        ("smtp://", "the host is missing"),
        ("smtp://user:secret@:25", "the host is missing"),
        ("smtp://host:port", "the port is not a number from 1 to 65535"),
        ("smtp://host:0", "the port is not a number from 1 to 65535"),
        ("smtp://host:65536", "the port is not a number from 1 to 65535"),
        ("smtp://host:-1", "the port is not a number"),
        ("smtp://host:", "the port is empty"),
        ("smtps://host:465?starttls=true", "starttls=true cannot be combined with smtps://"),
        ("smtp://host?tls=true", "unknown option 'tls' (known: starttls, timeout)"),
        ("smtp://host?starttls=yes&ssl=1", "unknown option 'ssl'"),
        ("smtp://host?starttls=maybe", "option starttls='maybe' is not true or false"),
        ("smtp://host?starttls=1&starttls=0", "option 'starttls' given twice"),
        ("smtp://host?timeout=0", "option timeout='0' is not a number of seconds"),
        ("smtp://host?timeout=soon", "option timeout='soon' is not a number of seconds"),
        ("smtp://host/relay", "unexpected path '/relay'"),
        ("smtp://host#frag", "unexpected fragment"),
        ("smtp://ho st:25", "contains spaces or control characters"),
        ("smtp://:secret@host", "a password is given without a user name"),
        ("smtp://user@host:587?starttls=true", "a user name is given without a password"),
    ],
)
def test_invalid_smtp_urls_are_refused_with_a_clear_message(url, problem):
    with pytest.raises(SettingsError) as refused:
        parse_smtp_url(url)
    message = str(refused.value)
    assert message.startswith("AGENDUM_SMTP_URL: "), message
    assert problem in message
    assert "Expected smtp://[user:password@]host[:port][?starttls=true]" in message
    assert "secret" not in message


def test_the_password_never_shows_in_logs_or_reprs():
    config = parse_smtp_url("smtp://user:hunter2-secret@host:587?starttls=true")
    assert "hunter2" not in repr(config) and "hunter2" not in config.describe()
    assert config.describe() == "smtp://user:***@host:587?starttls=true (timeout 10s)"
    assert config.client_options()["password"] == "hunter2-secret"


def test_settings_from_the_environment():
    settings = Settings.from_env(
        {
            "AGENDUM_SMTP_URL": " smtps://u:p@relay.example ",
            "AGENDUM_MAIL_FROM": "Clinic <hi@clinic.example>",
            "AGENDUM_RUN_WORKER": "false",
        }
    )
    assert settings.smtp == SmtpConfig("relay.example", 465, "u", "p", use_tls=True)
    assert (settings.mail_from, settings.run_worker) == ("Clinic <hi@clinic.example>", False)
    defaults = Settings.from_env({})
    assert (defaults.smtp_url, defaults.smtp, defaults.run_worker) == ("", None, True)
    assert defaults.mail_from == "Agendum <no-reply@agendum.local>"
    with pytest.raises(
        SettingsError,
        match=r"^AGENDUM_RUN_WORKER: 'sometimes' is not true or false \(use true/false, 1/0, yes/no or on/off\)$",
    ):
        Settings.from_env({"AGENDUM_RUN_WORKER": "sometimes"})


@pytest.mark.parametrize(
    "overrides, setting",
    [
        ({"smtp_url": "smtps://host?starttls=true"}, "AGENDUM_SMTP_URL"),
        ({"smtp_url": "smtp://host:99999"}, "AGENDUM_SMTP_URL"),
        ({"smtp_url": "ftp://host", "demo": True, "secret_key": ""}, "AGENDUM_SMTP_URL"),  # the demo checks it too
        ({"mail_from": "Agendum"}, "AGENDUM_MAIL_FROM"),
        ({"mail_from": "ops@example.com\r\nBcc: x@example.com"}, "AGENDUM_MAIL_FROM"),
    ],
)
def test_create_app_refuses_bad_delivery_settings(overrides, setting):
    with pytest.raises(SettingsError) as refused:
        create_app(Settings(secret_key=TEST_SECRET, base_url="http://testserver").replace(**overrides))
    assert str(refused.value).startswith(f"{setting}: ")


def test_create_app_accepts_good_delivery_settings():
    app = create_app(
        Settings(
            secret_key=TEST_SECRET,
            base_url="https://clinic.example",
            smtp_url="smtp://u:p@relay.example:587?starttls=true",
            mail_from="no-reply@clinic.example",
        )
    )
    assert app.state.settings.smtp == SmtpConfig("relay.example", 587, "u", "p", start_tls=True)
    assert app.state.worker is None  # until the lifespan starts it
    assert app.state.mailbox is None  # no dev mailbox outside demo mode


def _agendum(tmp_path, env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(AGENDUM), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    clean["AGENDUM_DATABASE_URL"] = f"sqlite://{tmp_path / 'agendum.sqlite3'}"
    return clean


def test_serve_and_worker_refuse_a_bad_smtp_url_before_touching_the_database(tmp_path, env):
    with free_socket() as sock:
        port = str(sock.getsockname()[1])
    bad = {
        **env,
        "AGENDUM_SECRET_KEY": TEST_SECRET,
        "AGENDUM_SMTP_URL": "smtps://user:topsecret@relay.example?starttls=true",
    }
    for args in (("serve", "--port", port), ("serve", "--demo", "--port", port), ("worker",)):
        refused = _agendum(tmp_path, bad, *args)
        assert refused.returncode != 0, args
        assert refused.stderr.startswith("agendum: AGENDUM_SMTP_URL: starttls=true cannot be combined with smtps://"), (
            refused.stderr
        )
        assert "Traceback" not in refused.stderr and "topsecret" not in refused.stderr
    assert not (tmp_path / "agendum.sqlite3").exists()


def test_worker_without_an_smtp_url_says_what_to_set(tmp_path, env):
    refused = _agendum(tmp_path, env, "worker")
    assert refused.returncode != 0
    assert refused.stderr.startswith("agendum: AGENDUM_SMTP_URL is not set: the worker needs an SMTP server"), (
        refused.stderr
    )
    assert "Traceback" not in refused.stderr
