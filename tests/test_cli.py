"""The real `agendum` command in a subprocess: migrate, create-admin, and serve (refusing a
missing or weak secret, the demo, and the client IP as the served app sees it). Every
subprocess runs in a temporary directory on a temporary SQLite file and is bounded by timeouts."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import POSTGRES_URL, TEST_SECRET, free_socket

from app import is_loopback
from core.settings import DEMO_SECRET

AGENDUM = Path(sys.executable).with_name("agendum")
COMMAND_TIMEOUT = 60
STARTUP_TIMEOUT = 30
LOCATIONS = "{ locations { __typename ... on LocationConnection { edges { node { name } } } } }"
LOGIN = (
    "mutation($email: String!, $password: String!) { staffLogin(email: $email, password: $password) { __typename } }"
)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The environment of a fresh install: no AGENDUM_* settings but a temporary database, and
    stdout buffered as it is when piped (no PYTHONUNBUFFERED)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_") and k != "PYTHONUNBUFFERED"}
    clean["AGENDUM_DATABASE_URL"] = f"sqlite://{tmp_path / 'agendum.sqlite3'}"
    return clean


def agendum(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `agendum ARGS` to completion in tmp_path."""
    return subprocess.run(
        [str(AGENDUM), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT
    )


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with free_socket() as sock:
        return sock.getsockname()[1]


@contextlib.contextmanager
def serving(tmp_path: Path, env: dict[str, str], *args: str, printed: str = ""):
    """Run `agendum serve ARGS --port <free>` until its stdout shows `printed` and then /healthz
    answers; yield (url, stdout so far) as (str, callable); terminate the server afterwards.
    (`printed` is awaited before any request, as a request's access log line flushes stdout.)"""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [str(AGENDUM), "serve", *args, "--port", str(port)], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"agendum serve exited with {process.returncode}:\n{err.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"agendum serve did not print {printed!r} and answer /healthz within "
                    f"{STARTUP_TIMEOUT}s:\n{out.read_text()}\n{err.read_text()}"
                )
            if printed not in out.read_text():
                time.sleep(0.1)
                continue
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=2).json() == {"status": "ok"}:
                    break
            time.sleep(0.1)
        yield url, out.read_text
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def graphql(url: str, query: str, variables: dict | None = None, token: str | None = None, **headers) -> dict:
    """POST a GraphQL request to a served app; the `data` of an error-free answer."""
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_migrate_then_create_admin_prints_a_working_token(tmp_path, env):
    migrated = agendum(tmp_path, env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "Migrations applied." in migrated.stdout
    created = agendum(tmp_path, env, "create-admin", "--email", "a@b.example")
    assert created.returncode == 0, created.stderr
    assert "Owner a@b.example." in created.stdout
    token = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token), created.stdout
    again = agendum(tmp_path, env, "create-admin", "--email", "A@B.example")
    assert again.returncode == 0, again.stderr
    second_token = again.stdout.strip().splitlines()[-1]
    assert second_token != token
    weak = agendum(tmp_path, env, "create-admin", "--email", "c@d.example", "--password", "short")
    assert weak.returncode != 0 and "at least 10 characters" in weak.stderr
    assert "Traceback" not in weak.stderr
    for email in ("c@d.example", "a@b.example"):  # a new owner and an existing one alike
        common = agendum(tmp_path, env, "create-admin", "--email", email, "--password", "Password123")
        assert common.returncode != 0 and "on a list of common passwords" in common.stderr, common.stderr

    with serving(
        tmp_path, {**env, "AGENDUM_SECRET_KEY": TEST_SECRET, "AGENDUM_BASE_URL": "https://clinic.example"}
    ) as (url, _):
        for owner_token in (token, second_token):
            assert graphql(url, LOCATIONS, token=owner_token)["locations"] == {
                "__typename": "LocationConnection",
                "edges": [],
            }
        forged = httpx.post(
            f"{url}/graphql", json={"query": LOCATIONS}, headers={"Authorization": f"Bearer {token[:-1]}x"}, timeout=30
        )
        assert forged.status_code == 401 and forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_serve_without_a_secret_key_outside_demo_mode_refuses_to_start(tmp_path, env):
    refused = agendum(tmp_path, env, "serve", "--port", str(free_port()))
    assert refused.returncode != 0
    assert "AGENDUM_SECRET_KEY is not set" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "agendum.sqlite3").exists()  # refused before touching the database


# 40 `a`, 40 spaces and a key of words and sequences started the server before: they no longer do.
@pytest.mark.parametrize(
    "secret",
    ["short-secret", "x" * 31, DEMO_SECRET, "a" * 40, " " * 40, "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"],
)
def test_serve_refuses_a_weak_secret_key_and_says_how_to_make_one(tmp_path, env, secret):
    refused = agendum(tmp_path, {**env, "AGENDUM_SECRET_KEY": secret}, "serve", "--port", str(free_port()))
    assert refused.returncode != 0
    assert "AGENDUM_SECRET_KEY is too weak" in refused.stderr
    assert "python -c 'import secrets; print(secrets.token_urlsafe(48))'" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "agendum.sqlite3").exists()  # refused before touching the database


def test_serve_refuses_a_weak_fallback_key_without_printing_it(tmp_path, env):
    fallbacks = f"{secrets.token_urlsafe(48)}, {'b' * 40}"
    settings = {**env, "AGENDUM_SECRET_KEY": TEST_SECRET, "AGENDUM_SECRET_KEY_FALLBACKS": fallbacks}
    refused = agendum(tmp_path, settings, "serve", "--port", str(free_port()))
    assert refused.returncode != 0
    assert "AGENDUM_SECRET_KEY_FALLBACKS (key 2) is too weak" in refused.stderr and "b" * 40 not in refused.stderr


@pytest.mark.parametrize(
    "setting, value",
    [
        ("AGENDUM_STAFF_TOKEN_HOURS", "abc"),
        ("AGENDUM_STAFF_TOKEN_HOURS", "0"),
        ("AGENDUM_STAFF_TOKEN_HOURS", "10" * 20),
        ("AGENDUM_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
        ("AGENDUM_MAX_BODY_BYTES", "1MB"),
        ("AGENDUM_MAX_BODY_BYTES", "0"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(tmp_path, env, setting, value):
    refused = agendum(tmp_path, {**env, setting: value}, "create-admin", "--email", "a@b.example")
    assert refused.returncode != 0
    assert refused.stderr.startswith(f"agendum: {setting}:"), refused.stderr
    assert "Traceback" not in refused.stderr


def test_serve_demo_prints_graphiql_address_and_a_token_for_the_demo_location(tmp_path, env):
    # The token must show while the server runs although stdout is a file, not a terminal.
    with serving(tmp_path, env, "--demo", printed="Staff token") as (url, stdout):
        printed = stdout()
        assert f"GraphiQL at {url}/graphql" in printed, printed
        token = re.search(r"Staff token \(owner demo@agendum\.local\): (\S+)", printed).group(1)
        ide = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"}, timeout=30)
        assert ide.status_code == 200 and "graphiql" in ide.text.lower()
        locations = graphql(url, LOCATIONS, token=token)["locations"]
        assert [edge["node"]["name"] for edge in locations["edges"]] == ["Riverside Clinic"]
        assert graphql(url, LOCATIONS)["locations"]["__typename"] == "PermissionDenied"
        # The demo clinic has the built-in plugins on: its client portal answers.
        portal = httpx.get(f"{url}/portal/riverside-clinic", timeout=30)
        assert portal.status_code == 200 and "Riverside Clinic" in portal.text and "Sign in" in portal.text


@pytest.mark.parametrize(
    "host, demo, backend",
    [
        ("0.0.0.0", "--demo", "sqlite"),
        ("0.0.0.0", "--demo", "postgres"),
        ("::", "--demo", "sqlite"),
        ("2001:db8::1", "--demo", "postgres"),
        ("agendum.example.com", "--demo", "sqlite"),
        ("192.0.2.10", "AGENDUM_DEMO=1", "postgres"),
    ],
)
def test_serve_refuses_the_demo_on_a_public_address(tmp_path, env, host, demo, backend):
    """The demo's secret key and owner password are public and /dev/mailbox is open: it serves
    loopback only, refused (one line, before any database work) whatever the database."""
    if backend == "postgres":
        env["AGENDUM_DATABASE_URL"] = POSTGRES_URL.rpartition("/")[0] + "/agendum_demo_never_created"
    flags = ["--demo"] if demo == "--demo" else []
    if demo == "AGENDUM_DEMO=1":
        env["AGENDUM_DEMO"] = "1"
    refused = agendum(tmp_path, env, "serve", *flags, "--host", host, "--port", str(free_port()))
    assert refused.returncode != 0
    assert refused.stderr.startswith(f"agendum: the demo serves this machine only, not --host {host}: "), refused.stderr
    assert "secret key and owner password are public" in refused.stderr and "/dev/mailbox" in refused.stderr
    assert "127.0.0.1 (the default), localhost or ::1" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert refused.stdout == "" and not (tmp_path / "agendum.sqlite3").exists()


def test_loopback_hosts_are_those_of_this_machine_only():
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost", "LocalHost"))
    assert not any(
        is_loopback(host) for host in ("0.0.0.0", "::", "10.0.0.1", "::ffff:8.8.8.8", "[::1]", "example.com", "")
    )


def test_served_app_ignores_forwarded_for_without_trusted_proxies(tmp_path, env):
    """`agendum serve` lets no one but AGENDUM_TRUSTED_PROXIES set the client IP: spoofed
    X-Forwarded-For values all share the peer's per-IP login budget (30 by default)."""
    with serving(tmp_path, env, "--demo") as (url, _):
        for i in range(30):
            attempt = graphql(
                url,
                LOGIN,
                {"email": f"user{i}@test.example", "password": "wrong-password-1"},
                **{"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            assert attempt["staffLogin"]["__typename"] == "InvalidCredentials"
        last = graphql(
            url,
            LOGIN,
            {"email": "demo@agendum.local", "password": "demo-password-123"},
            **{"X-Forwarded-For": "198.51.100.1"},
        )
        assert last["staffLogin"]["__typename"] == "RateLimited"


SMTP_TIMEOUT_10 = "smtp://127.0.0.1:9?timeout=10"  # 12 x 10 s: leases of at least 120 s
WORKER_ENV = {
    "AGENDUM_SMTP_URL": SMTP_TIMEOUT_10,
    "AGENDUM_SECRET_KEY": TEST_SECRET,
    "AGENDUM_BASE_URL": "https://clinic.example",
}


@pytest.mark.parametrize(
    "unset", [("AGENDUM_SECRET_KEY",), ("AGENDUM_BASE_URL",), ("AGENDUM_SECRET_KEY", "AGENDUM_BASE_URL")]
)
def test_worker_refuses_to_start_without_the_secret_key_and_base_url(tmp_path, env, unset):
    """Emails keep customers' links as references: the worker needs the key and address to send them."""
    settings = {**env, **{k: v for k, v in WORKER_ENV.items() if k not in unset}, **{k: " " for k in unset[1:]}}
    refused = agendum(tmp_path, settings, "worker", "--until-idle")
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    verb = "is" if len(unset) == 1 else "are"
    assert refused.stderr.startswith(
        f"agendum worker: {' and '.join(unset)} {verb} not set. Set AGENDUM_SECRET_KEY and "
        "AGENDUM_BASE_URL as on the servers"
    ), refused.stderr
    assert refused.stdout == "" and "Traceback" not in refused.stderr and not (tmp_path / "agendum.sqlite3").exists()
    weak = agendum(tmp_path, {**env, **WORKER_ENV, "AGENDUM_SECRET_KEY": "a" * 40}, "worker", "--until-idle")
    assert weak.returncode != 0 and "AGENDUM_SECRET_KEY is too weak" in weak.stderr and "Traceback" not in weak.stderr


@pytest.mark.parametrize(
    "options, refusal",
    [
        (["--lease-seconds", "5"], "argument --lease-seconds: 5 is shorter than 120, 12 x the SMTP timeout of 10s"),
        (["--lease-seconds", "119.5"], "argument --lease-seconds: 119.5 is shorter than 120"),
        (["--lease-seconds", "-1"], "argument --lease-seconds: -1 is not a number of seconds above 0"),
        (["--lanes", "0"], "argument --lanes: 0 is less than 1"),
        (["--batch", "many"], "argument --batch: 'many' is not a whole number"),
        (["--poll-interval", "nan"], "argument --poll-interval: nan is not a number of seconds above 0"),
    ],
)
def test_worker_refuses_unusable_options_before_starting(tmp_path, env, options, refusal):
    refused = agendum(tmp_path, {**env, **WORKER_ENV}, "worker", "--until-idle", *options)
    assert refused.returncode == 2, (refused.stdout, refused.stderr)
    assert refused.stderr.startswith("usage: agendum worker") and f"agendum worker: error: {refusal}" in refused.stderr
    assert refused.stdout == "" and "Traceback" not in refused.stderr


@pytest.mark.parametrize(
    "options, lease", [([], "300s"), (["--lease-seconds", "120"], "120s"), (["--lease-seconds", "900"], "900s")]
)
def test_worker_runs_with_the_lease_it_says(tmp_path, env, options, lease):
    assert agendum(tmp_path, env, "migrate").returncode == 0
    done = agendum(tmp_path, {**env, **WORKER_ENV}, "worker", "--until-idle", *options)
    assert done.returncode == 0, done.stderr
    assert f"with 4 lanes of 25, leases of {lease}" in done.stdout and "0 sent" in done.stdout, done.stdout
    slow = agendum(
        tmp_path, {**env, **WORKER_ENV, "AGENDUM_SMTP_URL": "smtp://127.0.0.1:9?timeout=60"}, "worker", "--until-idle"
    )
    assert slow.returncode == 0 and "leases of 720s" in slow.stdout, (slow.stdout, slow.stderr)  # the default gives way


def test_the_readme_lists_every_command_and_option():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    described = {
        m.group(1): m.group(2)
        for m in re.finditer(r"^- `agendum ([a-z-]+)[^`]*`(.*?)(?=^- `agendum |\Z)", section, re.M | re.S)
    }
    from app import command_line

    commands = command_line()._subparsers._group_actions[0].choices
    assert set(described) == set(commands)
    for name, command in commands.items():
        options = {
            flag
            for action in command._actions
            for flag in action.option_strings
            if flag.startswith("--") and flag != "--help"
        }
        usage = re.match(r"^- `agendum [^`]*`", section[section.index(f"- `agendum {name}") :]).group(0)
        missing = {flag for flag in options if flag not in usage or flag not in described[name]}
        assert not missing, f"README: `agendum {name}` does not show and explain {missing}"
