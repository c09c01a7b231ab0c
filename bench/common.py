"""Shared parts of the benchmarks in bench/: uvicorn servers in subprocesses, a keep-alive HTTP/1.1
load client, latency percentiles, and the temp workspace every run cleans up.

Import it as `bench.common` after putting the project root on sys.path, and keep the bench/ folder
itself off sys.path (bench/graphql.py would shadow graphql-core):

    ROOT = Path(__file__).resolve().parent.parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, str(ROOT))
"""

from __future__ import annotations

import asyncio
import contextlib
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REQUEST_TIMEOUT = 30.0


# ------------------------------------------------------------------ workspace and event loop


def event_loop() -> tuple[Callable | None, str]:
    """(loop factory for asyncio.Runner, its name): uvloop when installed, as the servers use."""
    try:
        import uvloop
    except ImportError:
        return None, "asyncio"
    return uvloop.new_event_loop, "uvloop"


@contextlib.contextmanager
def workspace(prefix: str) -> Iterator[tuple[Path, list[Server]]]:
    """A temp folder and a list to put servers in; on exit (SIGTERM and Ctrl-C included) every
    server is stopped and the folder removed."""

    def terminate(signum, frame):
        raise KeyboardInterrupt  # unwinds like Ctrl-C, so the finally below cleans up

    signal.signal(signal.SIGTERM, terminate)
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    servers: list[Server] = []
    try:
        yield workdir, servers
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def agendum_env(database_url: str) -> dict[str, str]:
    """The environment of an Agendum server (production settings) on this database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    env.update(
        {
            "AGENDUM_DATABASE_URL": database_url,
            "AGENDUM_SECRET_KEY": secrets.token_urlsafe(48),
            "AGENDUM_BASE_URL": "http://127.0.0.1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


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
            sys.executable,
            "-m",
            "uvicorn",
            *target,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--log-level",
            "warning",
            "--no-access-log",
            "--lifespan",
            "auto",
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
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
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
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


# ------------------------------------------------------------------ load generator


def build_request(port: int, query: str, token: str | None, variables: dict | None = None) -> bytes:
    payload: dict = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    body = json.dumps(payload).encode()
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
        return status, await reader.readexactly(int(lower[marker + 17 : end]))
    if b"\r\ntransfer-encoding: chunked" in lower:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])
    return status, b""


async def read_response_after(writer: asyncio.StreamWriter, reader: asyncio.StreamReader, request: bytes):
    writer.write(request)
    return await read_response(reader)


def percentile(samples: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of samples, in the samples' unit; nan when empty."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


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
        """Latency percentile in milliseconds."""
        return percentile(self.latencies, p) * 1000


async def load(
    server: Server, result: Result, request: bytes, check, concurrency: int, warmup: float, seconds: float
) -> None:
    """Keep `concurrency` connections busy for warmup + seconds; add the measured window to result.
    `check(status, body)` sees the first answer of every connection in full and raises if wrong."""
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
    except TimeoutError:
        raise RuntimeError(f"{server.name} server stopped answering:\n{server.log_tail()}") from None
    result.seconds += seconds
    result.server_cpu_seconds += samples["server1"] - samples["server0"]
    result.client_cpu_seconds += samples["client1"] - samples["client0"]
    result.round_rps.append((len(result.latencies) - count) / seconds)
