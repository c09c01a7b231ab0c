"""Action link page benchmark: GET /action/{token} against a plain Starlette page of the same size.

What it measures
  1. plain    GET /page on bench/plain_page.py: a Starlette route returning a fixed HTML body as
              large as the action link page. The ceiling for one worker serving a page.
  2. Agendum  GET /action/{token} on the real app (one uvicorn worker, SQLite, production
              settings, the action_links plugin enabled, link rate limits raised for the bench):
              token lookup, gating, the appointment, rules, history, and the branded page.
  Load: 50 keep-alive connections from this process, alternating rounds, a warm-up first.
  Figures: requests per second, p50/p99 latency, server CPU per request, and the ratio.
  Target: at least 300 requests per second for the action link page.

Usage: .venv/bin/python bench/action_links.py [--seconds 10] [--concurrency 50] [--warmup 2] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# bench/ holds a graphql.py: keep this folder off sys.path so `import graphql` finds graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.common import HOST, Result, Server, agendum_env, event_loop, load, read_response, workspace  # noqa: E402

TARGET_RPS = 300


def get_request(port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/html\r\n\r\n".encode()


def seed(database_url: str, env: dict[str, str]) -> str:
    """Migrate, create a SILVER location with action links on and one appointment; its link path."""
    import datetime as dt

    from tortoise import Tortoise

    from app import load_plugins, orm_config
    from core.agendum import Agendum
    from core.db import run_migrations
    from core.models import Appointment, Calendar, Customer, Location, PluginActivation, Service, Tier
    from core.settings import Settings
    from plugins.action_links.links import token_for

    settings = Settings(
        database_url=database_url,
        secret_key=env["AGENDUM_SECRET_KEY"],
        base_url=env["AGENDUM_BASE_URL"],
        load_entry_points=False,
    )

    async def work() -> str:
        host = load_plugins(settings)
        Agendum(settings, host)
        try:
            await run_migrations(orm_config(settings, host))
            await Tortoise.close_connections()
            await Tortoise.init(config=orm_config(settings, host))
            location = await Location.create(
                name="Harbour Clinic",
                timezone="Europe/London",
                currency="GBP",
                tier=Tier.SILVER,
                contact_phone="+44 20 7946 0000",
                cancellation_reasons=["Clash", "Ill"],
            )
            calendar = await Calendar.create(location=location, name="Dr Patel")
            service = await Service.create(location=location, name="Consultation", duration_minutes=30)
            await service.calendars.add(calendar)
            customer = await Customer.create(
                location=location,
                first_name="Ada",
                last_name="Lovelace",
                email="ada@example.com",
                email_key="ada@example.com",
            )
            start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).replace(hour=10, minute=0, second=0, microsecond=0)
            appointment = await Appointment.create(
                location=location,
                calendar=calendar,
                service=service,
                customer=customer,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
                blocked_until=start + dt.timedelta(minutes=30),
            )
            await PluginActivation.create(location=location, plugin="action_links", enabled=True, settings={})
            return f"/action/{await token_for(settings, appointment)}"
        finally:
            await Tortoise.close_connections()

    return asyncio.run(work())


def expect(fragment: bytes):
    def check(status: int, body: bytes) -> None:
        if status != 200 or fragment not in body:
            raise RuntimeError(f"unexpected answer ({status}): {body[:300]!r}")

    return check


async def page_size(server: Server, request: bytes) -> int:
    reader, writer = await asyncio.open_connection(HOST, server.port)
    try:
        writer.write(request)
        status, body = await read_response(reader)
        if status != 200:
            raise RuntimeError(f"action link page answered {status}: {body[:300]!r}")
        return len(body)
    finally:
        writer.close()


async def run(args: argparse.Namespace, workdir: Path, servers: list[Server]) -> list[Result]:
    database_url = f"sqlite://{workdir / 'agendum.sqlite3'}"
    env = {
        **agendum_env(database_url),
        "AGENDUM_LINK_LIMIT_PER_IP": "1000000000/60",
        "AGENDUM_LINK_LIMIT_PER_TOKEN": "1000000000/60",
        "AGENDUM_LINK_CEILING_PER_TOKEN": "1000000000/60",
        "AGENDUM_LOAD_ENTRY_POINTS": "0",
    }
    path = await asyncio.to_thread(seed, database_url, env)
    agendum = Server("Agendum", ["--factory", "app:app_from_env"], env, workdir)
    servers.append(agendum)
    agendum_request = get_request(agendum.port, path)
    await agendum.wait_ready(agendum_request)
    size = await page_size(agendum, agendum_request)
    plain = Server("plain", ["bench.plain_page:app"], {**env, "PLAIN_PAGE_BYTES": str(size)}, workdir)
    servers.append(plain)
    plain_request = get_request(plain.port, "/page")
    await plain.wait_ready(plain_request)
    runs = [
        (plain, plain_request, expect(b"xxxx"), Result("plain")),
        (agendum, agendum_request, expect(b"Your appointment"), Result("Agendum")),
    ]
    for round_ in range(args.rounds):
        for server, request, check, result in runs:
            warmup = args.warmup if round_ == 0 else min(args.warmup, 0.5)
            await load(server, result, request, check, args.concurrency, warmup, args.seconds / args.rounds)
    print(f"  page size {size} bytes")
    return [result for *_, result in runs]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    loop_factory, loop_name = event_loop()
    print(
        f"Action link page benchmark: uvicorn, 1 worker each, SQLite; client {loop_name}, {args.concurrency} keep-alive "
        f"connections; {args.warmup:g} s warm-up + {args.seconds:g} s measured per server in {args.rounds} rounds; "
        f"{os.cpu_count()} CPUs shared"
    )
    with workspace("agendum-bench-links-") as (workdir, servers):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            plain, agendum = runner.run(run(args, workdir, servers))
    for result, what in ((plain, "GET /page (plain Starlette)"), (agendum, "GET /action/{token}")):
        rounds = " / ".join(f"{r:.0f}" for r in result.round_rps)
        print(
            f"  {result.label:<8} {what:<28} {result.rps:7.0f} req/s (rounds {rounds})  p50 {result.percentile(50):6.2f} ms  "
            f"p99 {result.percentile(99):6.2f} ms  server CPU {result.cpu_ms_per_request:.2f} ms/request  failures {result.failures}"
        )
    ratio = agendum.rps / plain.rps if plain.rps else float("nan")
    print(
        f"  ratio Agendum / plain: {ratio:.2f}; target >= {TARGET_RPS} req/s: {'met' if agendum.rps >= TARGET_RPS else 'NOT met'}"
    )


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp files removed")
