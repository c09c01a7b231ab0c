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
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named graphql.py: keep its folder off sys.path so `import graphql` finds graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
AGENDUM_QUERY = "{ locations { ... on LocationConnection { edges { node { id name } } } } }"
BARE_QUERY = "{ __typename }"
LOCATIONS = ("Harbour Street", "Old Town")
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0


# ------------------------------------------------------------------ servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if this benchmark dies without cleaning up (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """One uvicorn worker in a subprocess; stderr/stdout go to a log file shown on failure."""

    def __init__(self, name: str, target: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        command = [
            sys.executable, "-m", "uvicorn", *target,
            "--host", HOST, "--port", str(self.port), "--workers", "1",
            "--loop", "uvloop", "--http", "httptools",
            "--log-level", "warning", "--no-access-log", "--lifespan", "auto",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C does not reach it; stop() ends it
            preexec_fn=_die_with_parent,
        )

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def wait_ready(self, request: bytes) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 1)
                try:
                    writer.write(request)
                    status, _ = await asyncio.wait_for(read_response(reader), 5)
                finally:
                    writer.close()
                if status == 200:
                    return
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} server not ready after {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_TIMEOUT)
        self.log.close()


# ------------------------------------------------------------------ database


def seed(database_url: str, settings_env: dict[str, str]) -> tuple[str, int]:
    """Migrate the temp database, create an owner and some locations; returns (token, count)."""
    from tortoise import Tortoise

    from core.accounts import create_admin
    from core.db import run_migrations, tortoise_config
    from core.models import Location
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


# ------------------------------------------------------------------ load generator


def build_request(port: int, query: str, token: str | None) -> bytes:
    body = json.dumps({"query": query}).encode()
    headers = [
        "POST /graphql HTTP/1.1",
        f"Host: {HOST}:{port}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
    ]
    if token:
        headers.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Read one HTTP/1.1 response (Content-Length or chunked); returns (status, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    marker = lower.find(b"\r\ncontent-length:")
    if marker >= 0:
        end = lower.index(b"\r\n", marker + 2)
        return status, await reader.readexactly(int(lower[marker + 17:end]))
    if b"\r\ntransfer-encoding: chunked" in lower:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])
    return status, b""


@dataclass
class Result:
    """Measured windows of one server, summed over rounds."""

    label: str
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    server_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    round_rps: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def server_cpu(self) -> float:
        return self.server_cpu_seconds / self.seconds

    @property
    def client_cpu(self) -> float:
        return self.client_cpu_seconds / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1000 / max(1, len(self.latencies))

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def load(server: Server, result: Result, request: bytes, check, concurrency: int, warmup: float, seconds: float) -> None:
    """Keep `concurrency` connections busy for warmup + seconds; add the measured window to result."""
    clock = time.perf_counter  # loop.time() has only millisecond resolution under uvloop
    start = clock()
    window_start, window_end = start + warmup, start + warmup + seconds
    samples: dict[str, float] = {}
    count = len(result.latencies)

    async def sample_cpu() -> None:
        await asyncio.sleep(window_start - clock())
        samples["server0"], samples["client0"] = server.cpu_seconds(), time.process_time()
        await asyncio.sleep(window_end - clock())
        samples["server1"], samples["client1"] = server.cpu_seconds(), time.process_time()

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        try:
            status, body = await read_response_after(writer, reader, request)
            check(status, body)  # the first answer of every connection is checked in full
            while True:
                sent = clock()
                if sent >= window_end:
                    return
                writer.write(request)
                status, body = await read_response(reader)
                done = clock()
                if window_start <= done <= window_end:
                    if status == 200 and b'"errors"' not in body:
                        result.latencies.append(done - sent)
                    else:
                        result.failures += 1
        finally:
            writer.close()

    try:
        await asyncio.wait_for(
            asyncio.gather(sample_cpu(), *(worker() for _ in range(concurrency))),
            warmup + seconds + REQUEST_TIMEOUT,
        )
    except asyncio.TimeoutError:
        raise RuntimeError(f"{server.name} server stopped answering:\n{server.log_tail()}") from None
    result.seconds += seconds
    result.server_cpu_seconds += samples["server1"] - samples["server0"]
    result.client_cpu_seconds += samples["client1"] - samples["client0"]
    result.round_rps.append((len(result.latencies) - count) / seconds)


async def read_response_after(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, request: bytes):
    writer.write(request)
    return await read_response(reader)


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    env.update({
        "AGENDUM_DATABASE_URL": database_url,
        "AGENDUM_SECRET_KEY": secrets.token_urlsafe(48),
        "AGENDUM_BASE_URL": "http://127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    })
    token, locations = await asyncio.to_thread(seed, database_url, env)

    targets = [
        ("bare", ["bench.bare_strawberry:app"], BARE_QUERY, None, expect_bare, "{ __typename }"),
        ("Agendum", ["--factory", "app:app_from_env"], AGENDUM_QUERY, token, expect_agendum(locations),
         f"locations ({locations} rows, bearer)"),
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
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds the seconds are split into (default 2)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--seconds must be > 0, --concurrency >= 1, --warmup >= 0, --rounds >= 1")

    try:
        import uvloop
        loop_factory, loop_name = uvloop.new_event_loop, "uvloop"
    except ImportError:
        loop_factory, loop_name = None, "asyncio"

    def terminate(signum, frame):
        raise KeyboardInterrupt  # unwinds like Ctrl-C, so the finally below cleans up

    signal.signal(signal.SIGTERM, terminate)
    workdir = Path(tempfile.mkdtemp(prefix="agendum-bench-"))
    servers: list[Server] = []
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            results = runner.run(run(args, workdir, servers))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

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
