"""Free-slot benchmark: `availableSlots` over HTTP with a short and a long appointment history,
the slot engine alone, a naive sort-and-sweep baseline, and what turning slots into JSON costs.

Dataset (the same every run, relative to today)
  One location (Europe/London, 15-minute slot step, default rules: no minimum notice, 365 days
  advance), one calendar with a roster Monday-Friday 09:00-17:00, one 30-minute service without
  buffer on that calendar, an owner with a bearer token, 200 customers. The calendar has 8 live
  appointments (30 minutes on the half hour, positions drawn with a fixed seed) on every working
  day from today for FUTURE_DAYS days, and a history before today of
    - 100 past appointments, or
    - 100,000 past appointments (8 per working day going back ~48 years; 92% COMPLETED,
      5% CANCELLED, 3% NO_SHOW),
  each in its own temp SQLite file: migrated by Tortoise, small rows created through the ORM, the
  appointments inserted with one executemany. The future appointments are identical in both.

What it measures (query: the next WINDOW_DAYS days from tomorrow 00:00 London time)
  1. HTTP     `availableSlots { ... on SlotList { slots { start end } } }` with the owner's bearer
              token against the real app (app:app_from_env, production settings), one uvicorn
              worker per dataset (uvloop + httptools, no access log) on loopback; one keep-alive
              connection sending the same request back to back (sequential). p50/p99 latency
              as this client sees it; the first answer of each connection is checked in full
              against the engine's slots.
  2. engine   core.availability.engine.free_slots in this process on exactly what core.availability.slots.slots_for
              loads (availability and busy intervals of the window), p50 of repeated calls.
  3. baseline a sort-and-sweep written here: candidate starts of every rostered day, candidates
              and busy intervals sorted, one sweep with a running maximum of busy ends. It must
              give the same slots as the engine ("same slots"); the HTTP answer is checked too.
  4. response share: the part of the request that turns the engine's slots into the response body,
              measured in-process: (a) the resolver's conversion into GraphQL Slot objects in
              local time, (b) schema.execute with `slots { start end }` minus schema.execute with
              only `__typename` on the SlotList (same resolver, same database work; the difference
              is graphql-core completing and serialising the slot list), (c) json.dumps of the
              result as strawberry's view encodes it. (a)+(b)+(c) over the HTTP p50.
  Also printed: an in-process breakdown (busy-interval query, slots_for, the core function, the
  whole GraphQL execution) to show where the HTTP time goes, and SQLite's plan for the busy query.

How to read it
  Targets: HTTP p50 under 25 ms for both histories, and the 100,000-history p50 within 1.5x of the
  100-history p50 (the busy-interval query is an index range scan on (calendar_id, starts_at), so
  the history should not matter). Engine / baseline below 1.0x means the engine is the faster.
  Both datasets are measured in alternating rounds (A B, B A, ...) for HTTP and in-process alike,
  so drifting background load hits both the same way; the load average is printed because the
  CPUs are shared with whatever else runs: latency under contention includes waiting for a
  CPU, while "server CPU ms/request" (the server's CPU time / requests) is less sensitive to it.

Usage: .venv/bin/python bench/slots.py [--seconds 12] [--inproc-seconds 6] [--rounds 6] [--warmup 1] [--concurrency 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Keep bench/ off sys.path: bench/graphql.py would shadow graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    Result,
    Server,
    agendum_env,
    build_request,
    event_loop,
    load,
    percentile,
    workspace,
)

UTC = dt.UTC
TIMEZONE = "Europe/London"
ROSTER = [(weekday, 9 * 60, 17 * 60) for weekday in range(5)]  # Monday-Friday 09:00-17:00
SERVICE_MINUTES = 30
STEP_MINUTES = 15
PER_DAY = 8
FUTURE_DAYS = 36  # today and the next 35 days: covers the 30-day window and its edges
WINDOW_DAYS = 30
HISTORIES = (100, 100_000)
CUSTOMERS = 200
SEED = 20240601
TARGET_P50_MS = 25.0
TARGET_RATIO = 1.5
CPU = "@cpu"  # suffix of the CPU-time samples of an in-process measurement

SLOT_QUERY = """{{
  availableSlots(calendarId: "{calendar}", serviceId: "{service}", from: "{start}", to: "{end}") {{
    __typename
    ... on SlotList {{ {selection} }}
    ... on Problem {{ message }}
  }}
}}"""


@dataclass(frozen=True)
class Fixture:
    """What the template database holds (ids are the same in every copy)."""

    token: str
    location_id: int
    calendar_id: int
    service_id: int
    customer_ids: tuple[int, ...]


@dataclass
class InProcess:
    """In-process results of one dataset: timing samples (seconds) by measurement, over rounds."""

    history: int
    busy_loaded: int = 0
    busy_expected: int = 0
    slots: list[dt.datetime] = field(default_factory=list)
    same_slots: bool = False
    plan: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)

    def ms(self, name: str, cpu: bool = False) -> float:
        """p50 of a measurement in milliseconds: wall clock, or this process's CPU time."""
        return percentile(self.samples.get(name + CPU if cpu else name, []), 50) * 1000

    def runs(self, name: str) -> int:
        return len(self.samples.get(name, []))

    def response_ms(self, cpu: bool = False) -> float:
        """(a) + (b) + (c) of part 4."""
        return self.ms("convert", cpu) + max(0.0, self.ms("execute_diff", cpu)) + self.ms("encode", cpu)


# ------------------------------------------------------------------ data


def migrate_and_seed(database_url: str, env: dict[str, str]) -> Fixture:
    """Migrate the template database and create the small rows through the ORM."""
    from tortoise import Tortoise

    from core.db import run_migrations, tortoise_config
    from core.models import Calendar, Customer, Location, RosterRule, Service
    from core.security.accounts import create_admin
    from core.settings import Settings

    settings = Settings.from_env(env).checked()

    async def work() -> Fixture:
        try:
            await run_migrations(tortoise_config(database_url))
        finally:
            await Tortoise.close_connections()
        try:
            await Tortoise.init(config=tortoise_config(database_url))
            issued = await create_admin("bench@agendum.example", None, settings)
            location = await Location.create(
                name="Harbour Street", timezone=TIMEZONE, currency="GBP", slot_step_minutes=STEP_MINUTES
            )
            calendar = await Calendar.create(location=location, name="Dr Ada Patel")
            await RosterRule.bulk_create(
                [RosterRule(calendar=calendar, weekday=d, start_minute=s, end_minute=e) for d, s, e in ROSTER]
            )
            service = await Service.create(location=location, name="Consultation", duration_minutes=SERVICE_MINUTES)
            await service.calendars.add(calendar)
            await Customer.bulk_create(
                [
                    Customer(
                        location=location,
                        first_name=f"Customer{i}",
                        last_name="Bench",
                        email=f"c{i}@example.com",
                        email_key=f"c{i}@example.com",
                    )
                    for i in range(CUSTOMERS)
                ]
            )
            customer_ids = tuple(await Customer.filter(location=location).order_by("id").values_list("id", flat=True))
            return Fixture(issued.token, location.id, calendar.id, service.id, customer_ids)
        finally:
            await Tortoise.close_connections()

    return asyncio.run(work())


def working_days(first: dt.date, direction: int):
    """Monday-Friday dates from `first` on, forwards (1) or backwards (-1)."""
    day = first
    while True:
        if day.weekday() < 5:
            yield day
        day += dt.timedelta(days=direction)


def day_starts(rng: random.Random, day: dt.date, tz: ZoneInfo) -> list[dt.datetime]:
    """PER_DAY distinct half-hour starts between 09:00 and 16:30 local, as UTC instants."""
    positions = sorted(rng.sample(range(16), PER_DAY))
    return [dt.datetime.combine(day, dt.time(9 + p // 2, 30 * (p % 2)), tzinfo=tz).astimezone(UTC) for p in positions]


def appointments(today: dt.date, history: int, tz: ZoneInfo) -> list[tuple[dt.datetime, str]]:
    """(start, status) of the future appointments (the same for every history) and `history` past ones."""
    rows: list[tuple[dt.datetime, str]] = []
    future = random.Random(SEED)
    for day in working_days(today, 1):
        if day >= today + dt.timedelta(days=FUTURE_DAYS):
            break
        rows += [(start, future.choice(("SCHEDULED", "CONFIRMED"))) for start in day_starts(future, day, tz)]
    past = random.Random(SEED + 1)
    remaining = history
    for day in working_days(today - dt.timedelta(days=1), -1):
        if remaining <= 0:
            break
        starts = day_starts(past, day, tz)[:remaining]
        remaining -= len(starts)
        for start in starts:
            draw = past.random()
            rows.append((start, "CANCELLED" if draw < 0.05 else "NO_SHOW" if draw < 0.08 else "COMPLETED"))
    return rows


def insert_appointments(path: Path, fixture: Fixture, rows: list[tuple[dt.datetime, str]]) -> None:
    """Raw executemany in Tortoise's own storage format for SQLite ('YYYY-MM-DD HH:MM:SS+00:00')."""
    duration = dt.timedelta(minutes=SERVICE_MINUTES)
    customers = fixture.customer_ids
    values = [
        (
            fixture.location_id,
            fixture.calendar_id,
            fixture.service_id,
            customers[i % len(customers)],
            str(start),
            str(start + duration),
            str(start + duration),
            status,
            "",
            "",
            0,
            0,
            str(start - dt.timedelta(days=7)),
            str(start - dt.timedelta(days=7)),
        )
        for i, (start, status) in enumerate(rows)
    ]
    with sqlite3.connect(path) as connection:
        connection.executemany(
            'INSERT INTO "appointment" ("location_id", "calendar_id", "service_id", "customer_id", "starts_at",'
            ' "ends_at", "blocked_until", "status", "cancellation_reason", "cancellation_note", "sequence",'
            ' "customer_reschedules", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            values,
        )
    connection.close()


# ------------------------------------------------------------------ the baseline


def baseline_slots(
    tz: ZoneInfo,
    roster: list[tuple[int, int, int]],
    busy: list[tuple[dt.datetime, dt.datetime]],
    *,
    duration: dt.timedelta,
    buffer: dt.timedelta,
    step: dt.timedelta,
    window_start: dt.datetime,
    window_end: dt.datetime,
    earliest: dt.datetime,
    latest: dt.datetime,
) -> list[dt.datetime]:
    """Plain sort-and-sweep: every candidate start of every rostered day (stepping from the roster
    start, the service inside the roster interval), sorted; busy intervals sorted by start; one
    pass in which a candidate is taken unless some busy interval that starts before the candidate's
    end-plus-buffer ends after the candidate (a running maximum of the ends seen so far).
    No exceptions and no daylight-saving gap inside working hours (true for this dataset)."""
    low = max(window_start, earliest)
    candidates = []
    day, last = window_start.astimezone(tz).date(), window_end.astimezone(tz).date()
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time())
        for weekday, open_minute, close_minute in roster:
            if weekday != day.weekday():
                continue
            opens = (midnight + dt.timedelta(minutes=open_minute)).replace(tzinfo=tz).astimezone(UTC)
            closes = (midnight + dt.timedelta(minutes=close_minute)).replace(tzinfo=tz).astimezone(UTC)
            start = opens
            while start + duration <= closes:
                if low <= start < window_end and start <= latest:
                    candidates.append(start)
                start += step
        day += dt.timedelta(days=1)
    candidates.sort()
    intervals = sorted(busy)
    blocked = duration + buffer
    slots = []
    i, reach = 0, None  # reach: the latest end of the busy intervals taken in so far
    for start in candidates:
        while i < len(intervals) and intervals[i][0] < start + blocked:
            if reach is None or intervals[i][1] > reach:
                reach = intervals[i][1]
            i += 1
        if reach is None or reach <= start:
            slots.append(start)
    return slots


# ------------------------------------------------------------------ in-process measurements


def slot_query(fixture: Fixture, start: dt.datetime, end: dt.datetime, selection: str) -> str:
    return SLOT_QUERY.format(
        calendar=fixture.calendar_id,
        service=fixture.service_id,
        start=start.isoformat(),
        end=end.isoformat(),
        selection=selection,
    )


async def in_process_round(
    result: InProcess,
    database_url: str,
    env: dict[str, str],
    fixture: Fixture,
    schema,
    start: dt.datetime,
    end: dt.datetime,
    seconds: float,
) -> None:
    """One round on one dataset: every in-process measurement once per iteration, interleaved, so
    background load drifting during the run hits them alike; samples are added to `result`."""
    from tortoise import Tortoise

    from core import clock
    from core.appointments import available_slots
    from core.availability.budget import SlotBudget
    from core.availability.engine import free_slots, local_instant
    from core.availability.slots import busy_intervals, load_availability, rules_for, slots_for
    from core.db import tortoise_config
    from core.models import Calendar, Location, RosterRule, Service
    from core.security.accounts import authenticate
    from core.security.ratelimit import MemoryLimiter
    from core.settings import Settings
    from schema.appointments import Slot as SlotType, SlotList
    from schema.context import Context

    settings = Settings.from_env(env).checked()
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        location = await Location.get(id=fixture.location_id)
        calendar = await Calendar.get(id=fixture.calendar_id)
        service = await Service.get(id=fixture.service_id)
        tz = ZoneInfo(location.timezone)
        # Exactly what core.availability.slots.slots_for loads and passes to the engine.
        rules = await rules_for(location, service)
        duration = dt.timedelta(minutes=service.duration_minutes)
        buffer = dt.timedelta(minutes=service.buffer_after_minutes)
        availability = await load_availability(calendar.id, tz, start, end + duration)
        busy = await busy_intervals(calendar.id, start, end + duration + buffer)
        if availability.extra or availability.time_off:
            raise RuntimeError("the dataset has no calendar exceptions; the baseline does not handle them")
        roster = list(
            await RosterRule.filter(calendar_id=calendar.id).values_list("weekday", "start_minute", "end_minute")
        )
        now = clock.now()
        arguments = dict(
            duration=duration,
            buffer=buffer,
            step=dt.timedelta(minutes=location.slot_step_minutes),
            window_start=start,
            window_end=end,
            earliest=now + dt.timedelta(minutes=rules.min_notice_minutes),
            latest=now + dt.timedelta(days=rules.max_advance_days),
        )
        staff = await authenticate(fixture.token)
        core_slots = await slots_for(location, calendar, service, start, end)
        full_query = slot_query(fixture, start, end, "slots { start end }")
        bare_query = slot_query(fixture, start, end, "__typename")

        def context() -> Context:
            return Context(
                settings=settings, limiter=MemoryLimiter(), client_ip="127.0.0.1", bearer_token=fixture.token
            )

        answer = await schema.execute(full_query, context_value=context())
        if answer.errors or answer.data["availableSlots"]["__typename"] != "SlotList":
            raise RuntimeError(f"unexpected in-process answer: {answer.errors or answer.data}")
        body = {"data": answer.data}

        engine = lambda: free_slots(availability, busy, **arguments)  # noqa: E731
        baseline = lambda: baseline_slots(tz, roster, busy, **arguments)  # noqa: E731
        connection = Tortoise.get_connection("default")
        sql, params = busy_query_sql(calendar.id, start, end + duration + buffer)
        if not result.slots:  # first round: check and describe
            result.slots, result.busy_loaded = engine(), len(busy)
            result.same_slots = result.slots == baseline() == [s.start for s in core_slots]
            rows = await connection.execute_query_dict(f"EXPLAIN QUERY PLAN {sql}", params)
            result.plan = "; ".join(row["detail"] for row in rows)

        samples = result.samples
        for name in (
            "engine_cold",
            "engine",
            "baseline",
            "convert",
            "encode",
            "busy_sql",
            "busy_query",
            "slots_for",
            "core",
            "execute_full",
            "execute_bare",
            "execute_diff",
        ):
            samples.setdefault(name, [])
            samples.setdefault(name + CPU, [])
        wall, cpu = time.perf_counter, time.process_time  # process_time: every thread's CPU (aiosqlite's too)

        def timed(name: str, fn: Callable[[], object]) -> None:
            begin, begin_cpu = wall(), cpu()
            fn()
            samples[name + CPU].append(cpu() - begin_cpu)
            samples[name].append(wall() - begin)

        async def atimed(name: str, fn: Callable[[], Awaitable[object]]) -> tuple[float, float]:
            begin, begin_cpu = wall(), cpu()
            await fn()
            used = cpu() - begin_cpu
            elapsed = wall() - begin
            samples[name + CPU].append(used)
            samples[name].append(elapsed)
            return elapsed, used

        def convert() -> SlotList:  # the last line of the availableSlots resolver (schema/appointments.py)
            return SlotList(
                slots=[SlotType(start=s.start.astimezone(tz), end=s.end.astimezone(tz)) for s in core_slots]
            )

        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            local_instant.cache_clear()
            timed("engine_cold", engine)
            for _ in range(3):
                timed("engine", engine)
                timed("baseline", baseline)
            timed("convert", convert)
            timed("encode", lambda: json.dumps(body, separators=(",", ":")))  # strawberry's encode_json
            await atimed(
                "busy_sql", lambda: connection.execute_query(sql, params)
            )  # the same SQL, rows as SQLite gives them
            await atimed("busy_query", lambda: busy_intervals(calendar.id, start, end + duration + buffer))
            await atimed("slots_for", lambda: slots_for(location, calendar, service, start, end))
            await atimed(
                "core",
                lambda: available_slots(
                    staff,
                    calendar.id,
                    service.id,
                    SlotBudget().ticket(settings.staff_slot_budget).charge,
                    start=start,
                    end=end,
                ),
            )
            full = await atimed("execute_full", lambda: schema.execute(full_query, context_value=context()))
            bare = await atimed("execute_bare", lambda: schema.execute(bare_query, context_value=context()))
            samples["execute_diff"].append(full[0] - bare[0])
            samples["execute_diff" + CPU].append(full[1] - bare[1])
    finally:
        await Tortoise.close_connections()


def busy_query_sql(calendar_id: int, start: dt.datetime, end: dt.datetime) -> tuple[str, list]:
    """The SQL and parameters of core.availability.slots.busy_intervals' query, as Tortoise sends it."""
    from core.availability.slots import MAX_SPAN
    from core.models import Appointment, AppointmentStatus

    query = (
        Appointment.filter(
            calendar_id=calendar_id,
            starts_at__gte=start - MAX_SPAN,
            starts_at__lt=end,
            blocked_until__gt=start,
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("starts_at", "blocked_until")
    )
    query.sql()  # builds the query
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


# ------------------------------------------------------------------ HTTP


def expect_slots(slots: list[dt.datetime]):
    """Check an HTTP answer in full: the same instants as the engine, each ending 30 minutes later."""
    duration = dt.timedelta(minutes=SERVICE_MINUTES)

    def check(status: int, body: bytes) -> None:
        data = json.loads(body)
        answer = ((data.get("data") or {}).get("availableSlots") or {}) if status == 200 else {}
        got = [
            (dt.datetime.fromisoformat(s["start"]).astimezone(UTC), dt.datetime.fromisoformat(s["end"]).astimezone(UTC))
            for s in answer.get("slots") or []
        ]
        if data.get("errors") or answer.get("__typename") != "SlotList" or got != [(s, s + duration) for s in slots]:
            raise RuntimeError(f"unexpected availableSlots answer ({status}): {body[:500]!r}")

    return check


# ------------------------------------------------------------------ main


def alternate(round_: int, items: list) -> list:
    """The datasets in the order of this round: A B, B A, A B, ... so that neither always goes
    first (drifting background load and warm-up effects then hit both alike)."""
    return items if round_ % 2 == 0 else items[::-1]


async def run(args: argparse.Namespace, workdir: Path, servers: list[Server]):
    tz = ZoneInfo(TIMEZONE)
    template = workdir / "template.sqlite3"
    setup_started = time.perf_counter()
    env = agendum_env(f"sqlite://{template}")
    fixture = await asyncio.to_thread(migrate_and_seed, f"sqlite://{template}", env)

    today = dt.datetime.now(UTC).astimezone(tz).date()
    start = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    end = start + dt.timedelta(days=WINDOW_DAYS)  # wall-clock arithmetic: local midnight again
    duration = dt.timedelta(minutes=SERVICE_MINUTES)
    datasets = []
    for history in HISTORIES:
        path = workdir / f"history-{history}.sqlite3"
        shutil.copyfile(template, path)
        rows = appointments(today, history, tz)
        insert_started = time.perf_counter()
        await asyncio.to_thread(insert_appointments, path, fixture, rows)
        insert_s = time.perf_counter() - insert_started
        # What the busy query should find: live appointments that may touch the window.
        expected = sum(
            1
            for s, status in rows
            if status != "CANCELLED" and start - dt.timedelta(days=2) <= s < end + duration and s + duration > start
        )
        datasets.append((history, f"sqlite://{path}", len(rows), insert_s, expected))
        del rows
    setup_s = time.perf_counter() - setup_started
    gc.collect()

    # Servers first: they boot while nothing is measured and then sit idle (costing nothing).
    full_query = slot_query(fixture, start, end, "slots { start end }")
    runs = []
    for history, url, *_ in datasets:
        server = Server(
            f"history-{history}", ["--factory", "app:app_from_env"], {**env, "AGENDUM_DATABASE_URL": url}, workdir
        )
        servers.append(server)
        runs.append((server, build_request(server.port, full_query, fixture.token)))
    for server, request in runs:
        await server.wait_ready(request)

    from core.settings import Settings
    from schema.build import build_schema

    schema = build_schema(Settings.from_env(env).checked())
    measured = [InProcess(history, busy_expected=expected) for history, _, _, _, expected in datasets]
    for round_ in range(args.rounds):
        for (_, url, *_), result in alternate(round_, list(zip(datasets, measured))):
            await in_process_round(result, url, env, fixture, schema, start, end, args.inproc_seconds / args.rounds)

    results = [Result(f"{history:,}") for history, *_ in datasets]
    for round_ in range(args.rounds):
        for (server, request), result, inproc in alternate(round_, list(zip(runs, results, measured))):
            warmup = args.warmup if round_ == 0 else min(args.warmup, 0.3)
            await load(
                server,
                result,
                request,
                expect_slots(inproc.slots),
                args.concurrency,
                warmup,
                args.seconds / args.rounds,
            )
    return fixture, start, end, datasets, setup_s, measured, results


def report(
    args,
    loop_name,
    start,
    end,
    datasets,
    setup_s,
    measured: list[InProcess],
    results: list[Result],
    loads: tuple[float, float],
    runtime_s: float,
) -> bool:
    """Print the figures; True when both targets are met."""
    small, large = measured
    p50s = [r.percentile(50) for r in results]
    ratio = p50s[1] / p50s[0]
    p50_met = all(p < TARGET_P50_MS for p in p50s)
    ratio_met = ratio <= TARGET_RATIO
    label = lambda history: f"history {history:>7,}"  # noqa: E731
    print(
        f"Free-slot benchmark: availableSlots on Agendum + SQLite; {os.cpu_count()} CPUs shared by client, servers and anything else "
        f"running (load average {loads[0]:.1f} before, {loads[1]:.1f} after); {runtime_s:.0f} s in all"
    )
    print(
        f"  dataset  location {TIMEZONE}, 1 calendar Mon-Fri 09:00-17:00, {SERVICE_MINUTES}-min service, "
        f"{STEP_MINUTES}-min step, {PER_DAY} live appointments per working day from today for {FUTURE_DAYS} days"
    )
    for history, _, total, insert_s, _ in datasets:
        print(
            f"           {label(history)} past appointments: {total:,} appointment rows, inserted in {insert_s:.2f} s (executemany)"
        )
    print(f"           setup (migrate, seed, copy, insert) {setup_s:.1f} s")
    print(
        f"  query    availableSlots from {start.isoformat()} to {end.isoformat()} ({WINDOW_DAYS} days): "
        f"{len(small.slots)} slots; busy intervals loaded {small.busy_loaded} / {large.busy_loaded} "
        f"(expected {small.busy_expected} / {large.busy_expected})"
    )
    print(f"  SQLite plan of the busy-interval query (history 100,000): {large.plan}")
    print()
    print(
        f"1. HTTP: uvicorn, 1 worker per dataset (uvloop + httptools), loopback, owner bearer token; client {loop_name}, "
        f"{args.concurrency} keep-alive connection(s), requests back to back; {args.warmup:g} s warm-up + "
        f"{args.seconds:g} s measured per dataset in {args.rounds} alternating rounds"
    )
    for history, result in zip(HISTORIES, results):
        print(
            f"   {label(history)}  p50 {result.percentile(50):6.2f} ms   p99 {result.percentile(99):6.2f} ms   "
            f"({len(result.latencies)} requests; server CPU {result.cpu_ms_per_request:.2f} ms/request; failures {result.failures})"
        )
    cpu_ratio = results[1].cpu_ms_per_request / results[0].cpu_ms_per_request
    print(
        f"   p50 under {TARGET_P50_MS:g} ms: {'yes' if p50_met else 'NO'}   "
        f"p50 history 100,000 / history 100: {ratio:.2f}x (target <= {TARGET_RATIO:g}x): {'yes' if ratio_met else 'NO'}   "
        f"(server CPU per request: {cpu_ratio:.2f}x)"
    )
    print()
    print(
        "2. Engine alone: core.availability.engine.free_slots in-process on the inputs core.availability.slots.slots_for loads"
    )
    for m in measured:
        print(
            f"   {label(m.history)}  p50 {m.ms('engine'):6.3f} ms   ({m.runs('engine')} calls; "
            f"with local_instant's cache emptied before each call {m.ms('engine_cold'):.3f} ms)"
        )
    print()
    print(
        "3. Baseline: plain sort-and-sweep in bench/slots.py (candidate starts per rostered day, sort, one sweep), same inputs"
    )
    for m in measured:
        print(
            f"   {label(m.history)}  p50 {m.ms('baseline'):6.3f} ms   engine / baseline {m.ms('engine') / m.ms('baseline'):.2f}x"
        )
    print(
        f"   same slots: {'yes' if all(m.same_slots for m in measured) else 'no'} "
        f"(engine = baseline = core.availability.slots.slots_for, {len(small.slots)} slots; the first HTTP answer of each connection matched too)"
    )
    print()
    print("4. Share of the HTTP time spent turning slots into the response. Method, in-process p50s:")
    print("   (a) the resolver's last line: the engine's UTC slots -> GraphQL Slot objects in local time;")
    print("   (b) schema.execute selecting `slots { start end }` minus the same query selecting only `__typename`")
    print("       on the SlotList (same resolver and database work; p50 of the paired differences): graphql-core")
    print(
        "       completing the list and serialising each DateTime; (c) json.dumps of the result (strawberry's encode_json)."
    )
    for m, result in zip(measured, results):
        http = result.percentile(50)
        print(
            f"   {label(m.history)}  (a) {m.ms('convert'):.2f} + (b) {max(0.0, m.ms('execute_diff')):.2f} "
            f"({m.ms('execute_full'):.2f} - {m.ms('execute_bare'):.2f}) + (c) {m.ms('encode'):.2f} = {m.response_ms():.2f} ms"
            f" = {m.response_ms() / http:.0%} of the HTTP p50 ({http:.2f} ms)"
        )
        print(
            f"   {'':17}  as CPU time: {m.response_ms(cpu=True):.2f} ms = {m.response_ms(cpu=True) / result.cpu_ms_per_request:.0%}"
            f" of the server's CPU per request ({result.cpu_ms_per_request:.2f} ms)"
        )
    print()
    print("Where the HTTP time goes (in-process p50s; each layer includes the one before it)")
    for m, result in zip(measured, results):
        print(
            f"   {label(m.history)}  busy-interval query {m.ms('busy_query'):.2f} (its SQL alone {m.ms('busy_sql'):.2f}) | slots_for {m.ms('slots_for'):.2f}"
            f" | core available_slots {m.ms('core'):.2f} | schema.execute {m.ms('execute_full'):.2f}"
            f" | HTTP {result.percentile(50):.2f} ms   ({m.runs('core')} runs)"
        )
    print(
        "   The same as CPU time of this process (p50 of time.process_time deltas; not inflated by waiting for a CPU):"
    )
    for m, result in zip(measured, results):
        print(
            f"   {label(m.history)}  busy-interval query {m.ms('busy_query', True):.2f} (its SQL alone {m.ms('busy_sql', True):.2f})"
            f" | slots_for {m.ms('slots_for', True):.2f} | core available_slots {m.ms('core', True):.2f}"
            f" | schema.execute {m.ms('execute_full', True):.2f} | server CPU per HTTP request {result.cpu_ms_per_request:.2f} ms"
            f" | engine {m.ms('engine', True):.3f}, baseline {m.ms('baseline', True):.3f}"
        )
    print(
        "   busy-interval query: core.availability.slots.busy_intervals; its SQL alone: the same statement through Tortoise's connection"
    )
    print("   (aiosqlite), rows left as SQLite's strings, so the rest is Tortoise turning them into datetimes;")
    print(
        "   slots_for: roster, exceptions and busy queries + engine + Slot objects; available_slots adds the calendar,"
    )
    print("   service, service-calendar link and location lookups; schema.execute adds the token lookup and GraphQL.")
    if max(loads) > (os.cpu_count() or 1):
        print(
            f"   note: the machine was busy (load average up to {max(loads):.1f} on {os.cpu_count()} CPUs): wall-clock figures"
        )
        print("   include waiting for a CPU; the CPU-time figures and the ratios compare better between runs")
    for history, result in zip(HISTORIES, results):
        if result.client_cpu > 0.9:
            print(
                f"   warning: client CPU {result.client_cpu:.0%} during {label(history)}: the client may be the limit"
            )
        if result.failures:
            print(f"   warning: {result.failures} failed requests during {label(history)}")
    return p50_met and ratio_met


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="measured HTTP seconds per dataset (default 12)")
    parser.add_argument(
        "--rounds", type=int, default=6, help="alternating rounds the seconds are split into (default 6)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured HTTP seconds first (default 1)")
    parser.add_argument(
        "--inproc-seconds",
        type=float,
        default=6.0,
        help="in-process measuring seconds per dataset, in the same rounds (default 6)",
    )
    parser.add_argument("--concurrency", type=int, default=1, help="keep-alive connections (default 1: sequential)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.inproc_seconds <= 0 or args.concurrency < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error("--seconds and --inproc-seconds must be > 0, --concurrency >= 1, --warmup >= 0, --rounds >= 1")

    began, load_before = time.perf_counter(), os.getloadavg()[0]
    loop_factory, loop_name = event_loop()
    with workspace("agendum-bench-slots-") as (workdir, servers):
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            _, start, end, datasets, setup_s, measured, results = runner.run(run(args, workdir, servers))
    loads = (load_before, os.getloadavg()[0])
    report(args, loop_name, start, end, datasets, setup_s, measured, results, loads, time.perf_counter() - began)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; servers stopped, temp files removed")
