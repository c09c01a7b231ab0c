"""Logs and Redis never hold secrets. The rules of core.security.redaction, for any logger a later change
adds; then a full run of `agendum serve` (uvicorn's access log on, every logger at DEBUG, Redis
counting the limits, a real SMTP server refusing one recipient) through bookings, action links,
one-time links, portal verify and reset links, failed staff sign-ins with the password written in
the query and a failed send: none of the tokens, passwords or customer emails it used appears in
anything the process wrote, or in a Redis key."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
from pathlib import Path

import httpx
from conftest import TEST_SECRET, Api
from helpers import book, local
from portal_helpers import LOGIN, PASSWORD, link_in, portal_clinic, registered
from test_cli import free_port
from test_one_time_links import CREATE as CREATE_ONE_TIME_LINK
from test_portal_accounts import ASK as ASK_RESET
from tortoise import Tortoise
from uvicorn.logging import AccessFormatter

from core.security import redaction

TOKEN = "Zq9" + "x_Y-" * 10  # token-shaped: 43 URL-safe characters


def test_redaction_hides_tokens_signed_links_and_emails_but_keeps_the_rest():
    assert (
        redaction.redact(f"/action/{TOKEN}/reschedule?day=2027-01-31") == "/action/[redacted]/reschedule?day=2027-01-31"
    )
    assert (
        redaction.redact("/portal/clinic/from-link/WzEyLDE4MDAwMDAwMDAsIiJd.KdJxZOC9w_tTenTmPbvJAJfgg2U")
        == "/portal/clinic/from-link/[redacted]"
    )
    assert (
        redaction.redact(f"/x?token={TOKEN}&email=ada%40example.com&n=1") == "/x?token=[redacted]&email=[redacted]&n=1"
    )
    assert redaction.redact(f"http://127.0.0.1:8000/book/{TOKEN}") == "http://127.0.0.1:8000/book/[redacted]"
    assert (
        redaction.redact(f"refused: 550 5.1.1 <ada.l+x@mail.example.co.uk> unknown; token {TOKEN}.")
        == "refused: 550 5.1.1 <[email]> unknown; token [redacted]."
    )
    kept = (
        'File "/srv/.venv/lib/python3.11/site-packages/starlette/middleware/errors.py", line 164',
        "asyncpg.exceptions.ExclusionViolationError: conflicting key",
        "smtp://user:***@mail.example.com:587?starttls=true",
        '127.0.0.1:5555 - "GET /portal/riverside-clinic?day=2027-01-31 HTTP/1.1" 200',
    )
    assert [redaction.redact(text) for text in kept] == list(kept)


def test_a_logger_added_later_with_its_own_handler_is_redacted_too():
    """The redaction sits where records are made, not on a handler: an access log added later,
    not propagating to the root, formatting its own way, still gets clean records."""
    redaction.install()
    redaction.install()  # idempotent
    stream = io.StringIO()
    loggers = []
    for name, formatter in (
        ("access", AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)),
        ("errors", logging.Formatter("%(levelname)s %(message)s")),
    ):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        logger = logging.getLogger(f"agendum.test.later-{name}")
        logger.addHandler(handler)
        logger.propagate, logger.level = False, logging.INFO
        loggers.append((logger, handler))
    (access, _), (errors, _) = loggers
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "198.51.100.7:4000",
            "GET",
            f"/portal/c/verify/{TOKEN}?email=ada@example.com",
            "1.1",
            200,
        )
        try:
            raise ValueError(f"no such link {TOKEN} for ada@example.com")
        except ValueError:
            errors.exception("lookup failed for %r", {"email": "ada@example.com"})
    finally:
        for logger, handler in loggers:
            logger.removeHandler(handler)
    written = stream.getvalue()
    assert '198.51.100.7:4000 - "GET /portal/c/verify/[redacted]?email=[redacted] HTTP/1.1" 200' in written
    assert (
        "ERROR lookup failed for {'email': '[email]'}" in written
        and "ValueError: no such link [redacted] for [email]" in written
    )
    assert TOKEN not in written and "ada@example.com" not in written


async def test_graphql_errors_are_logged_by_operation_code_and_path_never_with_the_query(api_factory, caplog):
    """An unexpected failure keeps its traceback for the operator; the query's text, literals
    and all, is never logged, whatever the error."""
    api = await api_factory(debug=False)
    created = await api.data(
        'mutation { createLocation(input: {name: "x", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
    )
    await Tortoise.get_connection("default").execute_script('ALTER TABLE "customer" RENAME TO "customer_gone"')
    caplog.set_level(logging.INFO, logger="agendum.graphql")
    literal = "Literal-in-the-query-77"
    failed = await api.gql(
        f'query Listing {{ customers(locationId: "{created["createLocation"]["id"]}", search: "{literal}") {{ __typename }} }}'
    )
    assert failed["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    refused = await api.gql(f'mutation {{ staffLogin(email: "{literal}", password: "{literal}") {{ nope }} }}')
    assert refused["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    records = [r for r in caplog.records if r.name == "agendum.graphql"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("ERROR", "GraphQL operation Listing failed at customers: INTERNAL_SERVER_ERROR"),
        ("INFO", "GraphQL operation (anonymous) answered GRAPHQL_VALIDATION_FAILED at -"),
    ]
    assert records[0].exc_info and "customer" in str(records[0].exc_info[1])  # what went wrong, for the operator
    assert literal not in caplog.text and "locationId" not in caplog.text


# ------------------------------------------------------------------ a full run

# The `agendum` command as installed, with every logger at DEBUG on top (to stderr).
COMMAND = "import logging, sys; logging.basicConfig(level=logging.DEBUG); import app; app.main(sys.argv[1:])"
OWNER_EMAIL, OWNER_PASSWORD = "owner@logs.example", "Owner-log-passw0rd"
INLINE_PASSWORDS = ("Inline-Secret-1-pw", "Inline-Secret-2-pw", "Inline-Secret-3-pw")
BOUNCING = "bounce@logs.example"
LOGIN_STAFF = (
    "mutation($e: String!, $p: String!) { staffLogin(email: $e, password: $p) { ... on StaffSession { token } } }"
)
ACTION_LINK = re.compile(r"/action/([A-Za-z0-9_-]{43})")
FROM_LINK = re.compile(r'href="[^"]*(/portal/[a-z0-9-]+/from-link/([^"]+))"')
TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent


class Output:
    """Everything a process writes (stdout and stderr), line by line as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for line in self.process.stdout:
            async with self._arrived:
                self.lines.append(line.decode("utf-8", "replace"))
                self._arrived.notify_all()
        async with self._arrived:
            self._arrived.notify_all()

    async def wait_for(self, pattern: str) -> None:
        """Until a line matches `pattern` (fails when the process ends first, or after TIMEOUT s)."""

        async def seen() -> None:
            async with self._arrived:
                await self._arrived.wait_for(
                    lambda: any(re.search(pattern, line) for line in self.lines) or self._reader.done()
                )

        await asyncio.wait_for(seen(), TIMEOUT)
        assert any(re.search(pattern, line) for line in self.lines), f"no {pattern!r} in:\n{self.text()}"

    async def ended(self) -> str:
        """All the process wrote, once it ended."""
        await asyncio.wait_for(self.process.wait(), TIMEOUT)
        await asyncio.wait_for(self._reader, TIMEOUT)
        return self.text()

    async def close(self) -> str:
        """Stop the process (as a deployment would, SIGTERM) and return all it wrote."""
        if self.process.returncode is None:
            self.process.terminate()
        return await self.ended()

    def text(self) -> str:
        return "".join(self.lines)


async def agendum(env: dict, *args: str) -> Output:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        COMMAND,
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return Output(process)


async def redis_keys(redis_url: str) -> list[str]:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        return [key.decode("utf-8", "replace") async for key in client.scan_iter(match="*", count=1000)]
    finally:
        await client.aclose()


async def forget_limits(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    keys = [key async for key in client.scan_iter(match="agendum:ratelimit:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_a_full_run_leaves_no_token_password_or_email_in_its_logs_or_in_redis(
    database_url, smtp, redis_url, tmp_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    env.update(
        AGENDUM_DATABASE_URL=database_url,
        AGENDUM_SECRET_KEY=TEST_SECRET,
        AGENDUM_BASE_URL=url,
        PYTHONUNBUFFERED="1",
        AGENDUM_SMTP_URL=smtp.url(),
        AGENDUM_REDIS_URL=redis_url,
        AGENDUM_LOAD_ENTRY_POINTS="0",
    )
    admin = await agendum(env, "create-admin", "--email", OWNER_EMAIL, "--password", OWNER_PASSWORD)
    assert "Bearer token" in await admin.ended()
    await forget_limits(redis_url)
    smtp.on_rcpt = lambda address: f"550 5.1.1 <{address}>: Recipient address rejected" if address == BOUNCING else None
    served = await agendum(env, "serve", "--port", str(port))
    secrets: list[str] = [
        OWNER_PASSWORD,
        *INLINE_PASSWORDS,
        PASSWORD,
        OWNER_EMAIL,
        BOUNCING,
        "ada@example.com",
        "grace@logs.example",
    ]
    try:
        await served.wait_for("Uvicorn running on")
        client = httpx.AsyncClient(base_url=url, timeout=30)
        token = (
            await client.post(
                "/graphql", json={"query": LOGIN_STAFF, "variables": {"e": OWNER_EMAIL, "p": OWNER_PASSWORD}}
            )
        ).json()
        api = Api(url=url, client=client, settings=None, owner_token=token["data"]["staffLogin"]["token"])
        secrets.append(api.owner_token)

        # Failed sign-ins with the password in the query text: a validation error, a syntax error, a wrong password.
        first, second, third = INLINE_PASSWORDS
        for query in (
            f'mutation {{ staffLogin(email: "{OWNER_EMAIL}", password: "{first}") {{ ... on StaffSession {{ nope }} }} }}',
            f'mutation Sneaky {{ staffLogin(email: "{OWNER_EMAIL}", password: "{second}") {{',
            f'mutation {{ staffLogin(email: "{OWNER_EMAIL}", password: "{third}") {{ __typename }} }}',
        ):
            answer = await client.post(
                "/graphql", json={"query": query, "operationName": "Sneaky" if "Sneaky" in query else None}
            )
            assert answer.status_code in (200, 400)

        clinic, slug = await portal_clinic(api)
        for change in (
            "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }",
            'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
            'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        ):
            await api.data(change, {"l": clinic.location})

        # A booking and its action link: the page, a later step, the portal link on it, GraphQL.
        await book(api, clinic, local(clinic.tz, 4, 10))
        await smtp.wait_for(1)
        action = ACTION_LINK.search(smtp.received[0].message.get_body(("plain",)).get_content()).group(1)
        page = await client.get(f"/action/{action}")
        assert page.status_code == 200
        assert (
            await client.get(f"/action/{action}/reschedule", params={"day": local(clinic.tz, 5, 0).date().isoformat()})
        ).status_code == 200
        from_link, signed = FROM_LINK.search(page.text).groups()
        assert (await client.get(from_link)).status_code == 200
        assert (
            await client.post("/graphql", json={"query": f'{{ actionLink(token: "{action}") {{ nope }} }}'})
        ).status_code == 200
        secrets += [action, signed, signed.rsplit(".", 1)[1]]

        # A one-time link, its page and its GraphQL field.
        made = (await api.data(CREATE_ONE_TIME_LINK, {"c": clinic.calendar}))["createOneTimeLink"]
        one_time = made["url"].rsplit("/", 1)[1]
        assert (await client.get(f"/book/{one_time}")).status_code == 200
        await client.post("/graphql", json={"query": f'{{ oneTimeLink(token: "{one_time}") {{ __typename }} }}'})
        secrets.append(one_time)

        # The portal: registration, the emailed verify link, signing in, a reset link.
        grace, verify_link = await registered(api, smtp, slug, "grace@logs.example")
        verify = verify_link.rsplit("/", 1)[1]
        assert (await grace.page(f"/portal/{slug}/verify/{verify}")).status_code == 200
        assert (await grace.post_form(f"/portal/{slug}/verify/{verify}", {})).status_code in (200, 303)
        signed_in = (await grace.gql(LOGIN, {"s": slug, "e": "grace@logs.example", "p": PASSWORD}))["portalLogin"]
        assert signed_in["__typename"] == "PortalSignedIn", signed_in
        secrets += [verify, *(cookie for cookie in grace.client.cookies.values() if len(cookie) >= 16)]
        seen = len(smtp.received)
        await grace.gql(ASK_RESET, {"s": slug, "e": "grace@logs.example"})
        await smtp.wait_for(seen + 1)
        reset = link_in(smtp.received[seen]).rsplit("/", 1)[1]
        assert (await grace.page(f"/portal/{slug}/password/{reset}")).status_code == 200
        assert (await grace.page(f"/portal/{slug}/forgot?email=grace%40logs.example")).status_code == 200
        secrets.append(reset)
        await grace.close()

        # A send the SMTP server refuses, quoting the address.
        bouncing = await api.data(
            'mutation($l: ID!, $e: String!) { createCustomer(input: {locationId: $l, firstName: "Bo", lastName: "Unce", email: $e}) { ... on Customer { id } } }',
            {"l": clinic.location, "e": BOUNCING},
        )
        await api.data(
            "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "u": bouncing["createCustomer"]["id"],
                "t": local(clinic.tz, 6, 10).isoformat(),
            },
        )
        await served.wait_for(r"message \d+ failed: Refused: 550")
        await client.aclose()
        keys = await redis_keys(redis_url)
    finally:
        written = await served.close()
        await forget_limits(redis_url)
        (tmp_path / "agendum.log").write_text(written)  # to read when this fails

    # The run did what it says, and logged it: the access log, GraphQL's errors, the failed send.
    for line in (
        '"GET /action/[redacted] HTTP/1.1" 200',
        '"GET /action/[redacted]/reschedule?day=',
        '"GET /book/[redacted] HTTP/1.1" 200',
        f'"GET /portal/{slug}/verify/[redacted] HTTP/1.1" 200',
        f'"GET /portal/{slug}/password/[redacted] HTTP/1.1" 200',
        f'"GET /portal/{slug}/from-link/[redacted] HTTP/1.1" 200',
        f'"GET /portal/{slug}/forgot?email=[redacted] HTTP/1.1"',
        "GraphQL operation (anonymous) answered GRAPHQL_VALIDATION_FAILED",
        "GraphQL operation Sneaky answered GRAPHQL_PARSE_FAILED",
        "Refused: 550 5.1.1 <[email]>: Recipient address rejected",
    ):
        assert line in written, f"{line!r} not in the output, {tmp_path / 'agendum.log'}"
    leaked = {secret for secret in secrets if secret in written or secret.lower() in written.lower()}
    assert not leaked, f"the logs hold {leaked}"
    limits = [key for key in keys if key.startswith("agendum:ratelimit:")]
    assert limits, keys
    in_redis = {secret for secret in [*secrets, "127.0.0.1"] for key in keys if secret.lower() in key.lower()}
    assert not in_redis, f"Redis keys hold {in_redis}"
