"""GraphQL request-rate benchmark: Agendum versus a bare strawberry app, in one run.

What it measures
  1. bare     `{ __typename }` against bench/bare_strawberry.py: strawberry's ASGI view and a
              one-field schema with the same parser/validation caches as Agendum, nothing else
              around it (no Starlette, auth or database). The ceiling for one worker.
  2. Agendum  `{ locations { ... on LocationConnection { edges { node { id name } } } } }` with
              `Authorization: Bearer <owner token>` against the real app (app:app_from_env,
              production settings: no debug, error masking on) on a temp SQLite database that
              this script migrates and seeds (one owner, a few locations).
  Each server is uvicorn with one worker process (uvloop + httptools, access log off) started
  as a subprocess on a loopback port. The load comes from this process: N asyncio workers,
  each holding one keep-alive HTTP/1.1 connection and sending the same JSON POST back to back
  (same query text every time, so strawberry's parser and validation caches stay warm).
  Every run starts with a warm-up whose requests are not counted.

How to read it
  req/s      completed requests per second in the measured window (higher is better).
  p50 / p99  latency of one request as this client sees it, queueing included: with N
             connections open, p50 is roughly N / (req/s).
  server CPU share of one core the server process used in the window; near 100% means the
             server is CPU-bound and req/s is its capacity on one core. "ms/request" is that
             CPU time divided by the requests served: the cost of one request, and less
             sensitive than req/s to other work stealing the server's core.
  client CPU the same for this process; if it nears 100% the client, not the server, is the
             limit and the numbers understate the server.
  ratio      Agendum req/s / bare req/s: the share of strawberry's bare throughput that is left
             after Agendum's app, auth and database work (1.0 would be "free").
  rounds     the measured seconds are split into alternating rounds (bare, Agendum, bare, ...)
             with both servers up, so background load drifting during the run hits both alike;
             the per-round req/s show how steady the machine was.
  The machine has 2 cores shared by client and server, so absolute numbers are for comparing
  runs on the same machine, not capacity planning.

Usage: .venv/bin/python bench/graphql.py [--seconds 10] [--concurrency 16] [--warmup 2] [--rounds 2]
(or `make bench`)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named graphql.py: keep its folder off sys.path so `import graphql` finds graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.common import Result, Server, agendum_env, build_request, event_loop, load, workspace  # noqa: E402

AGENDUM_QUERY = "{ locations { ... on LocationConnection { edges { node { id name } } } } }"
BARE_QUERY = "{ __typename }"
LOCATIONS = ("Harbour Street", "Old Town")


# ------------------------------------------------------------------ database


def seed(database_url: str, settings_env: dict[str, str]) -> tuple[str, int]:
    """Migrate the temp database, create an owner and some locations; returns (token, count)."""
    from tortoise import Tortoise

    from core.db import run_migrations, tortoise_config
    from core.models import Location
    from core.security.accounts import create_admin
    from core.settings import Settings

    settings = Settings.from_env(settings_env).checked()

    async def work() -> str:
        try:
            await run_migrations(tortoise_config(database_url))
        finally:
            await Tortoise.close_connections()
        try:
            await Tortoise.init(config=tortoise_config(database_url))
            issued = await create_admin("bench@agendum.example", None, settings)
            for name in LOCATIONS:
                await Location.create(name=name, timezone="Europe/London", currency="EUR")
            return issued.token
        finally:
            await Tortoise.close_connections()

    return asyncio.run(work()), len(LOCATIONS)


# ------------------------------------------------------------------ checks


def expect_agendum(locations: int):
    def check(status: int, body: bytes) -> None:
        data = json.loads(body)
        edges = (((data.get("data") or {}).get("locations") or {}).get("edges")) if status == 200 else None
        if data.get("errors") or edges is None or len(edges) != locations:
            raise RuntimeError(f"unexpected Agendum answer ({status}): {body[:500]!r}")

    return check


def expect_bare(status: int, body: bytes) -> None:
    if status != 200 or json.loads(body) != {"data": {"__typename": "Query"}}:
        raise RuntimeError(f"unexpected bare answer ({status}): {body[:500]!r}")


# ------------------------------------------------------------------ main


def line(result: Result, what: str) -> str:
    rounds = " / ".join(f"{r:.0f}" for r in result.round_rps)
    return (
        f"  {result.label:<8} {what:<28} {result.rps:7.0f} req/s  (rounds {rounds})\n"
        f"  {'':<8} {'':<28} p50 {result.percentile(50):6.2f} ms   p99 {result.percentile(99):6.2f} ms   "
        f"server CPU {result.server_cpu:4.0%} = {result.cpu_ms_per_request:.2f} ms/request   "
        f"client CPU {result.client_cpu:4.0%}   failures {result.failures}"
    )


async def run(args: argparse.Namespace, workdir: Path, servers: list[Server]) -> list[tuple[Result, str]]:
    database_url = f"sqlite://{workdir / 'agendum.sqlite3'}"
    env = agendum_env(database_url)
    token, locations = await asyncio.to_thread(seed, database_url, env)

    targets = [
        ("bare", ["bench.bare_strawberry:app"], BARE_QUERY, None, expect_bare, "{ __typename }"),
        (
            "Agendum",
            ["--factory", "app:app_from_env"],
            AGENDUM_QUERY,
            token,
            expect_agendum(locations),
            f"locations ({locations} rows, bearer)",
        ),
    ]
    runs = []
    for name, target, query, bearer, check, what in targets:
        server = Server(name, target, env, workdir)
        servers.append(server)
        runs.append((server, build_request(server.port, query, bearer), check, Result(name), what))
    for server, request, *_ in runs:
        await server.wait_ready(request)
    # Alternate the servers in short rounds (an idle server costs nothing), so drifting
    # background load on the machine hits both alike.
    for round_ in range(args.rounds):
        for server, request, check, result, _ in runs:
            warmup = args.warmup if round_ == 0 else min(args.warmup, 0.5)
            await load(server, result, request, check, args.concurrency, warmup, args.seconds / args.rounds)
    return [(result, what) for _, _, _, result, what in runs]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per server (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds the seconds are split into (default 2)"
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--seconds must be > 0, --concurrency >= 1, --warmup >= 0, --rounds >= 1")

    loop_factory, loop_name = event_loop()
    with workspace("agendum-bench-") as (workdir, servers):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            results = runner.run(run(args, workdir, servers))

    print(
        f"GraphQL benchmark: uvicorn, 1 worker (uvloop + httptools, no access log); client {loop_name}, "
        f"{args.concurrency} keep-alive connections; per server {args.warmup:g} s warm-up + {args.seconds:g} s measured "
        f"in {args.rounds} alternating round(s); {os.cpu_count()} CPUs shared by client and servers"
    )
    for result, what in results:
        print(line(result, what))
    (bare, _), (agendum, _) = results
    ratio = agendum.rps / bare.rps if bare.rps else float("nan")
    cost = agendum.cpu_ms_per_request / bare.cpu_ms_per_request if bare.cpu_ms_per_request else float("nan")
    print(
        f"  ratio Agendum / bare: {ratio:.2f} of the requests per second"
        f" (bare serves {1 / ratio if ratio else float('inf'):.1f}x as many);"
        f" Agendum uses {cost:.1f}x the server CPU per request"
    )
    for result, _ in results:
        if result.client_cpu > 0.9:
            print(f"  warning: client CPU {result.client_cpu:.0%} during {result.label}: the client may be the limit")
        if result.failures:
            print(f"  warning: {result.failures} failed requests during {result.label}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp files removed")
