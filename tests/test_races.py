"""Concurrency claims tested ACROSS PROCESSES: the real `agendum serve --workers 4` runs as a
subprocess on this test's database (SQLite and PostgreSQL), and many clients, each with its own
connection, fire their requests at the same moment. In one process tortoise's SQLite client
serialises every transaction behind one lock, so an in-process race test cannot fail; here the
calendar-row lock in core/booking.py (and on PostgreSQL the exclusion constraint behind it) is
what leaves exactly one winner. Every response must be a 200 without `errors` (a busy database
surfacing as a server error is a bug), and the server's stderr must hold no traceback.
Every step is bounded by a timeout; the server's whole process group is killed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import free_socket
from helpers import APPOINTMENT_FIELDS, BOOK, Clinic, local, make_clinic

AGENDUM = Path(sys.executable).with_name("agendum")
WORKERS = 4
# Clients per race, each with its own connection. Without the calendar lock only requests whose
# transactions overlap the first winner's can go wrong, so a race must keep every worker busy: on
# 2 cores, with the lock removed, 50 clients let most of these tests pass; 150 fail each test in
# about half of the runs and the file in every run (see each test for the exclusion constraint).
CLIENTS = 150
COMMAND_TIMEOUT = 60  # create-admin
STARTUP_TIMEOUT = 60  # until /healthz answers
WARMUP_TIMEOUT = 30  # until every worker has answered once
REQUEST_TIMEOUT = 60  # one HTTP request
RACE_TIMEOUT = 90  # one whole race
STOP_TIMEOUT = 10  # SIGTERM to SIGKILL
# One TLS context for every client (plain http, but httpx builds a context per client: ~20 ms each).
TLS = ssl.create_default_context()

RESCHEDULE = (
    "mutation($id: ID!, $t: DateTime!, $seq: Int) { rescheduleAppointment(id: $id, start: $t, expectedSequence: $seq) { %s } }"
    % APPOINTMENT_FIELDS
)
APPOINTMENT = "query($id: ID!) { appointment(id: $id) { %s } }" % APPOINTMENT_FIELDS
APPOINTMENTS = """query($l: ID!) { appointments(locationId: $l, first: 100) { __typename
  ... on AppointmentConnection { edges { node { id status startsAt endsAt sequence } } } } }"""
SERVICE = """mutation($l: ID!, $c: ID!, $d: Int!) { createService(input: {locationId: $l, name: "Service", durationMinutes: $d, calendarIds: [$c]}) {
  __typename ... on Service { id } } }"""


@dataclass
class Answer:
    """One client's response in a race: the mutation's result and the worker that answered."""

    result: dict
    pid: str


@dataclass
class Server:
    """A running `agendum serve` subprocess and an owner's token for it."""

    url: str
    owner_token: str
    process: subprocess.Popen
    stderr_path: Path
    client: httpx.AsyncClient
    workers_seen: set[str] = field(default_factory=set)

    def stderr(self, tail: int = 12000) -> str:
        return self.stderr_path.read_text(errors="replace")[-tail:]

    def check(self, response: httpx.Response) -> dict:
        """The body of a GraphQL response that must be a 200 without `errors`."""
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
        if response.status_code != 200 or body is None or body.get("errors"):
            pytest.fail(
                f"HTTP {response.status_code} from worker {response.headers.get('x-agendum-pid')}: "
                f"{response.text[:2000]}\n--- server stderr ---\n{self.stderr()}"
            )
        return body

    async def data(self, query: str, variables: dict | None = None, token: str | None = "owner") -> dict:
        """The `data` of a request as the owner (the interface `helpers.make_clinic` uses)."""
        headers = {"Authorization": f"Bearer {self.owner_token if token == 'owner' else token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return self.check(response)["data"]


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_")}
    env.update(
        AGENDUM_DATABASE_URL=database_url,
        AGENDUM_SECRET_KEY=secrets.token_urlsafe(48),
        AGENDUM_EXPOSE_PROCESS_ID="1",
        AGENDUM_LINK_LIMIT_PER_IP="10000/60",  # the races send more than the default allows per link
        AGENDUM_LINK_LIMIT_PER_TOKEN="10000/60",
        AGENDUM_LINK_CEILING_PER_TOKEN="10000/60",
        PYTHONUNBUFFERED="1",
    )
    return env


async def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group (uvicorn's supervisor and its workers), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):  # stragglers of the group, even if the leader exited
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT)


async def _warm_up(server: Server) -> None:
    """Open fresh connections until every worker has answered once (all finished starting), so a
    race's connections can spread over them; bounded, the races assert the spread themselves."""

    async def one_fresh_connection() -> str | None:
        async with httpx.AsyncClient(base_url=server.url, timeout=5, verify=TLS) as fresh:
            response = await fresh.get("/healthz")
        return response.headers.get("x-agendum-pid") if response.status_code == 200 else None

    deadline = time.monotonic() + WARMUP_TIMEOUT
    while len(server.workers_seen) < WORKERS and time.monotonic() < deadline:
        server.workers_seen.update(
            p for p in await asyncio.gather(*(one_fresh_connection() for _ in range(WORKERS))) if p
        )
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def agendum_server(database_url: str, workdir: Path, workers: int = WORKERS) -> AsyncIterator[Server]:
    """`agendum serve --workers N` on `database_url` in its own process group, with an owner
    created beforehand by `agendum create-admin`; waits for /healthz and warms every worker up;
    kills the group on the way out and fails if the server logged a traceback."""
    env = _env(database_url)
    admin = await asyncio.to_thread(
        subprocess.run,
        [str(AGENDUM), "create-admin", "--email", "owner@race.example"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert admin.returncode == 0, f"create-admin failed:\n{admin.stdout}\n{admin.stderr}"
    token = admin.stdout.strip().splitlines()[-1]
    with free_socket() as sock:
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    stdout_path, stderr_path = workdir / "serve.out", workdir / "serve.err"
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [str(AGENDUM), "serve", "--workers", str(workers), "--port", str(port)],
            cwd=workdir,
            env={**env, "AGENDUM_BASE_URL": url},
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, verify=TLS) as client:
            server = Server(url, token, process, stderr_path, client)
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(f"agendum serve exited with {process.returncode}:\n{server.stderr()}")
                if "Traceback" in server.stderr(
                    tail=10**7
                ):  # e.g. a worker failing to import: uvicorn respawns it forever
                    pytest.fail(f"agendum serve failed while starting:\n{server.stderr()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"agendum serve did not answer /healthz within {STARTUP_TIMEOUT}s:\n{server.stderr()}")
                with contextlib.suppress(httpx.TransportError):
                    response = await client.get("/healthz", timeout=2)
                    if response.status_code == 200 and response.json() == {"status": "ok"}:
                        break
                await asyncio.sleep(0.1)
            await _warm_up(server)
            yield server
    finally:
        await _stop(process)
    log = stderr_path.read_text(errors="replace")
    if "Traceback" in log:
        pytest.fail(f"the server logged {log.count('Traceback')} traceback(s):\n{log[-12000:]}")


async def race(server: Server, requests: list[tuple[str, dict]]) -> list[Answer]:
    """Send each (query, variables) from its own client on its own connection, all at once.

    Every client first opens its keep-alive connection (a /healthz request, accepted by some
    worker); then all wait on one event and post together. Each response must be a 200 without
    `errors`; returns each mutation's result with the pid of the worker that answered."""
    headers = {"Authorization": f"Bearer {server.owner_token}"}
    go = asyncio.Event()
    ready = 0

    async def client_run(client: httpx.AsyncClient, query: str, variables: dict) -> httpx.Response:
        nonlocal ready
        warm = await client.get("/healthz")
        assert warm.status_code == 200, warm.text
        ready += 1
        if ready == len(requests):
            go.set()
        await go.wait()
        return await client.post("/graphql", json={"query": query, "variables": variables})

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.url,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                    verify=TLS,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                )
            )
            for _ in requests
        ]
        started = time.monotonic()
        responses = await asyncio.wait_for(
            asyncio.gather(*(client_run(c, q, v) for c, (q, v) in zip(clients, requests))), RACE_TIMEOUT
        )
        elapsed = time.monotonic() - started
    bad = [
        r
        for r in responses
        if r.status_code != 200 or "application/json" not in r.headers.get("content-type", "") or r.json().get("errors")
    ]
    if bad:
        pytest.fail(
            f"{len(bad)} of {len(responses)} responses were not a 200 without `errors`; first: "
            f"HTTP {bad[0].status_code} from worker {bad[0].headers.get('x-agendum-pid')}: {bad[0].text[:2000]}\n"
            f"--- server stderr ---\n{server.stderr()}"
        )
    answers = [Answer(next(iter(r.json()["data"].values())), r.headers["x-agendum-pid"]) for r in responses]
    pids = Counter(a.pid for a in answers)
    print(
        f"race of {len(requests)} clients: {elapsed:.2f}s, answers per worker {dict(pids)}, "
        f"results {dict(Counter(a.result['__typename'] for a in answers))}"
    )
    assert len(pids) >= 2, f"every request was answered by one process {set(pids)}: not a cross-process race"
    return answers


async def appointments(server: Server, clinic: Clinic) -> list[dict]:
    """Every appointment of the clinic's location, read back through GraphQL."""
    result = (await server.data(APPOINTMENTS, {"l": clinic.location}))["appointments"]
    assert result["__typename"] == "AppointmentConnection", result
    return [edge["node"] for edge in result["edges"]]


def typenames(answers: list[Answer]) -> Counter:
    return Counter(a.result["__typename"] for a in answers)


@pytest.fixture
async def served(database_url, tmp_path) -> AsyncIterator[Server]:
    """The real multi-process server on this test's fresh database (SQLite or PostgreSQL)."""
    async with agendum_server(database_url, tmp_path) as server:
        yield server


async def test_one_slot_booked_by_many_clients_at_once_has_one_winner(served):
    """Without the calendar lock SQLite answers some of these with "database is locked" (a server
    error); PostgreSQL still has one winner thanks to the exclusion constraint, and double-books
    only without both the lock and the constraint."""
    clinic = await make_clinic(served)
    start = local(clinic.tz, 3, 10)
    variables = {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": start.isoformat(), "o": False}
    answers = await race(served, [(BOOK, variables)] * CLIENTS)
    assert typenames(answers) == {"Appointment": 1, "SlotUnavailable": CLIENTS - 1}, typenames(answers)
    [winner] = [a.result for a in answers if a.result["__typename"] == "Appointment"]
    assert winner["startsAt"] == start.isoformat()
    stored = await appointments(served, clinic)
    assert [(a["id"], a["startsAt"], a["status"]) for a in stored] == [(winner["id"], start.isoformat(), "SCHEDULED")]


async def test_overlapping_slots_of_different_lengths_have_one_winner(served):
    """Bookings of 30-90 minutes at different starts on the grid, all covering one instant."""
    clinic = await make_clinic(served)
    services = {30: clinic.service}
    for minutes in (45, 60, 90):
        created = (await served.data(SERVICE, {"l": clinic.location, "c": clinic.calendar, "d": minutes}))[
            "createService"
        ]
        assert created["__typename"] == "Service", created
        services[minutes] = created["id"]
    instant = local(clinic.tz, 3, 12)  # every booking below covers it: start <= instant < start + duration
    candidates = [
        (minutes, instant - dt.timedelta(minutes=back)) for minutes in services for back in range(0, minutes, 15)
    ]
    assert len(candidates) == 2 + 3 + 4 + 6
    requests = [
        (BOOK, {"c": clinic.calendar, "s": services[minutes], "u": clinic.customer, "t": start.isoformat(), "o": False})
        for minutes, start in (candidates[i % len(candidates)] for i in range(CLIENTS))
    ]
    answers = await race(served, requests)
    assert typenames(answers) == {"Appointment": 1, "SlotUnavailable": CLIENTS - 1}, typenames(answers)
    [winner] = [a.result for a in answers if a.result["__typename"] == "Appointment"]
    assert dt.datetime.fromisoformat(winner["startsAt"]) <= instant < dt.datetime.fromisoformat(winner["endsAt"])
    stored = await appointments(served, clinic)
    assert [(a["id"], a["startsAt"], a["endsAt"]) for a in stored] == [
        (winner["id"], winner["startsAt"], winner["endsAt"])
    ]


async def test_concurrent_reschedules_with_the_same_expected_sequence_have_one_winner(served):
    """Every client moves the same appointment, seen at sequence 0, to its own free slot: one wins,
    the rest are stale. No constraint helps here: without the lock PostgreSQL lets several win."""
    clinic = await make_clinic(served)
    booked = (
        await served.data(
            BOOK,
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "u": clinic.customer,
                "t": local(clinic.tz, 3, 10).isoformat(),
                "o": False,
            },
        )
    )["bookAppointment"]
    assert (booked["__typename"], booked["sequence"]) == ("Appointment", 0), booked
    # One free, disjoint slot per client (whole hours, away from 01:00-02:59 and its DST changes):
    # without the lock no loser could be saved by the exclusion constraint.
    targets = [local(clinic.tz, day, hour) for day in range(3, 12) for hour in range(3, 23) if (day, hour) != (3, 10)][
        :CLIENTS
    ]
    assert len(targets) == CLIENTS
    answers = await race(served, [(RESCHEDULE, {"id": booked["id"], "t": t.isoformat(), "seq": 0}) for t in targets])
    assert typenames(answers) == {"Appointment": 1, "StaleAppointment": len(targets) - 1}, typenames(answers)
    [winner] = [a.result for a in answers if a.result["__typename"] == "Appointment"]
    assert winner["sequence"] == 1 and winner["startsAt"] in {t.isoformat() for t in targets}
    assert all(a.result["currentSequence"] == 1 for a in answers if a.result["__typename"] == "StaleAppointment")
    final = (await served.data(APPOINTMENT, {"id": booked["id"]}))["appointment"]
    assert (final["sequence"], final["startsAt"]) == (1, winner["startsAt"]), final
    assert [e["action"] for e in final["history"]] == ["BOOKED", "RESCHEDULED"]
    stored = await appointments(served, clinic)
    assert [(a["id"], a["startsAt"], a["sequence"]) for a in stored] == [(booked["id"], winner["startsAt"], 1)]


ONE_TIME_BOOK = """mutation($t: String!, $i: BookViaOneTimeLinkInput!) { bookViaOneTimeLink(token: $t, input: $i) {
  __typename ... on OneTimeBooking { startsAt } ... on LinkUnavailable { status } ... on SlotUnavailable { message } } }"""


async def test_one_time_link_used_by_many_clients_at_once_books_once(served):
    """The link is claimed inside the booking transaction: one booking, every other client told
    the link is used (not that a slot is taken: each asks for a different free time)."""
    clinic = await make_clinic(served)
    await served.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    created = await served.data(
        "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }",
        {"c": clinic.calendar},
    )
    token = created["createOneTimeLink"]["url"].rsplit("/", 1)[1]
    starts = [local(clinic.tz, day, hour) for day in range(3, 12) for hour in range(3, 23)][:CLIENTS]
    requests = [
        (
            ONE_TIME_BOOK,
            {
                "t": token,
                "i": {
                    "serviceId": clinic.service,
                    "start": start.isoformat(),
                    "firstName": "Client",
                    "lastName": str(n),
                    "email": f"client{n}@example.com",
                },
            },
        )
        for n, start in enumerate(starts)
    ]
    answers = await race(served, requests)
    assert typenames(answers) == {"OneTimeBooking": 1, "LinkUnavailable": CLIENTS - 1}, typenames(answers)
    assert {a.result["status"] for a in answers if a.result["__typename"] == "LinkUnavailable"} == {"USED"}
    assert len(await appointments(served, clinic)) == 1
