"""Password reset timing benchmark: does `portalRequestPasswordReset` answer a client's email and
an unknown one in the same time?

What it measures
  One uvicorn worker (production settings, the login limits raised for the bench) on a fresh
  SQLite file, or on a temp database of the PostgreSQL server given with --postgres. A location
  with the client portal on and one client (ada@example.com, who has a portal account). One
  keep-alive connection asks a password link for the client's email and for an unknown one, in
  alternation, one request at a time, after a warm-up. Only the client's requests queue an email.

How to read it
  p50 / p90   latency of each kind of request in milliseconds; the difference of the medians is
              what a stranger could measure to learn whether an email belongs to a client.
  The machine is shared: compare the two kinds within one run, never across runs.

Usage: .venv/bin/python bench/password_reset.py [--requests 300] [--warmup 30] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds a graphql.py: keep this folder off sys.path so `import graphql` finds graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.common import HOST, Server, agendum_env, build_request, event_loop, percentile, read_response, workspace  # noqa: E402
from bench.outbox import create_postgres, drop_postgres  # noqa: E402

ASK = "mutation($s: String!, $e: String!) { portalRequestPasswordReset(slug: $s, email: $e) { __typename } }"
CLIENT, STRANGER = "ada@example.com", "nobody@example.com"


def app():
    """The server under test (uvicorn --factory): settings from the environment, login limits raised."""
    from app import create_app
    from core.settings import RateLimit, Settings

    unlimited = RateLimit(10**9, 60)
    return create_app(
        replace(
            Settings.from_env(),
            login_limit_per_account=unlimited,
            login_ceiling_per_account=unlimited,
            login_limit_per_ip=unlimited,
        )
    )


async def gql(port: int, query: str, variables: dict, token: str | None = None) -> dict:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(build_request(port, query, token, variables))
        status, body = await read_response(reader)
    finally:
        writer.close()
    answer = json.loads(body)
    if status != 200 or answer.get("errors"):
        raise RuntimeError(f"unexpected answer ({status}): {body[:300]!r}")
    return answer["data"]


def owner_token(env: dict[str, str]) -> str:
    """Migrate the database and create an owner; the owner's bearer token."""
    from app import _migrate, _with_orm, app_for
    from core.security.accounts import create_admin
    from core.settings import Settings

    settings = Settings.from_env(env)
    asyncio.run(_migrate(settings))
    issued = []

    async def work() -> None:
        issued.append(await create_admin("owner@bench.example", None, settings))

    asyncio.run(_with_orm(app_for(settings), work))
    return issued[0].token


async def seed(port: int, token: str) -> str:
    """A location with the portal on and a client with an account; the portal's slug."""
    location = (
        await gql(
            port,
            'mutation { createLocation(input: {name: "Harbour Clinic", timezone: "Europe/London", currency: "GBP"}) '
            "{ ... on Location { id } } }",
            {},
            token,
        )
    )["createLocation"]["id"]
    await gql(
        port,
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "client_portal", enabled: true) { __typename } }',
        {"l": location},
        token,
    )
    await gql(
        port,
        'mutation($l: ID!) { createCustomer(input: {locationId: $l, firstName: "Ada", lastName: "Lovelace", email: "%s"}) '
        "{ __typename } }" % CLIENT,
        {"l": location},
        token,
    )
    return (
        await gql(
            port, "query($l: ID!) { portalUrl(locationId: $l) { ... on PortalUrl { slug } } }", {"l": location}, token
        )
    )["portalUrl"]["slug"]


async def measure(port: int, slug: str, requests: int, warmup: int) -> dict[str, list[float]]:
    reader, writer = await asyncio.open_connection(HOST, port)
    latencies: dict[str, list[float]] = {CLIENT: [], STRANGER: []}
    try:
        for number in range(warmup + requests):
            for email in (CLIENT, STRANGER) if number % 2 else (STRANGER, CLIENT):
                started = time.perf_counter()
                writer.write(build_request(port, ASK, None, {"s": slug, "e": email}))
                status, body = await read_response(reader)
                elapsed = time.perf_counter() - started
                if status != 200 or b"PortalMessage" not in body:
                    raise RuntimeError(f"unexpected answer ({status}): {body[:300]!r}")
                if number >= warmup:
                    latencies[email].append(elapsed * 1000)
    finally:
        writer.close()
    return latencies


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="measured requests of each kind (default 300)")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests of each kind first (default 30)")
    parser.add_argument(
        "--postgres", help="a PostgreSQL server URL (postgres://user@host:5432/postgres); default SQLite"
    )
    args = parser.parse_args(argv)
    loop_factory, loop_name = event_loop()
    with workspace("agendum-bench-reset-") as (workdir, servers):
        name = f"agendum_bench_reset_{secrets.token_hex(4)}"
        database_url = (
            create_postgres(args.postgres, name) if args.postgres else f"sqlite://{workdir / 'agendum.sqlite3'}"
        )
        try:
            env = {**agendum_env(database_url), "AGENDUM_LOAD_ENTRY_POINTS": "0", "AGENDUM_RUN_WORKER": "false"}
            token = owner_token(env)
            server = Server("Agendum", ["--factory", "bench.password_reset:app"], env, workdir)
            servers.append(server)
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                runner.run(server.wait_ready(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()))
                slug = runner.run(seed(server.port, token))
                latencies = runner.run(measure(server.port, slug, args.requests, args.warmup))
            server.stop()
        finally:
            if args.postgres:
                drop_postgres(args.postgres, name)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"Password reset timing: uvicorn, 1 worker, {backend}; client {loop_name}, one keep-alive connection, "
        f"{args.requests} measured requests of each kind after {args.warmup}; {os.cpu_count()} CPUs shared"
    )
    for email, label in ((CLIENT, "client's email"), (STRANGER, "unknown email")):
        samples = latencies[email]
        print(f"  {label:<15} p50 {statistics.median(samples):6.2f} ms  p90 {percentile(samples, 90):6.2f} ms")
    print(
        f"  difference of the medians: {statistics.median(latencies[CLIENT]) - statistics.median(latencies[STRANGER]):+.2f} ms"
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp files removed")
