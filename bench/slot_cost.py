"""Slot cost benchmark: what the customer slot budget (AGENDUM_SLOT_BUDGET) lets one anonymous
request cost the server, and how long /healthz waits while the largest allowed request runs.

Dataset (one temp SQLite file; the client portal on at every location; no appointments, so every
candidate is free and answered: the most work per unit of cost)
  office   Europe/London, 15-minute step, 20 calendars open Monday-Friday 08:00-18:00 and
           Saturday 09:00-13:00, one 30-minute service on all of them.
  allday   Europe/London, 5-minute step, 20 calendars open all week round the clock, one 5-minute
           service on all of them (the densest grid a location can have).
  demo     the `agendum serve --demo` clinic (3 calendars, weekdays 09:00-12:00 and 13:00-17:00).

Requests (anonymous `portalAvailableSlots`, from tomorrow 00:00 London time, over HTTP to one
uvicorn worker with production settings and the default budgets; the per-IP slot limit raised)
  must fit      the portal's 14-day "any calendar" view at office (20 calendars), a month of one
                calendar at office and at allday.
  must not fit  the issue's request: 15 aliases of 62 days "any calendar" (at demo and at office).
  largest       per shape, the longest window whose cost stays within the budget: one calendar at
                allday; any calendar at allday; 15 aliases of one calendar at allday; any calendar
                at office. The costliest in server CPU is "the largest request the budget allows".

Figures: each request's estimated cost (core.availability.cost) and answer (slots or QueryTooCostly), the
server's CPU time per request (user + system from /proc, median of --runs sequential requests;
the server does nothing else meanwhile) and per 1,000 units of cost; then /healthz latency (p50,
p99, max) polled every 20 ms on its own connection while the largest allowed request runs back to
back on another, against /healthz on the idle server. Target: the largest allowed request at most
about 1 s of server CPU. The CPUs are shared: the load average is printed; CPU time is less
sensitive to it than latency, which includes waiting for a CPU.

Usage: .venv/bin/python bench/slot_cost.py [--runs 5] [--healthz-seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
# Keep bench/ off sys.path: bench/graphql.py would shadow graphql-core.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

from bench.common import HOST, Server, agendum_env, build_request, percentile, read_response, workspace  # noqa: E402

TIMEZONE = "Europe/London"
TARGET_CPU_SECONDS = 1.0
ALIASES = 15
OFFICE_HOURS = [(d, 8 * 60, 18 * 60) for d in range(5)] + [(5, 9 * 60, 13 * 60)]
ALL_DAY = [(d, 0, 24 * 60) for d in range(7)]
PORTAL_FIELD = """{alias}: portalAvailableSlots(slug: "{slug}", serviceId: "{service}", from: "{start}", to: "{end}"{calendar}) {{
    __typename ... on PortalSlotList {{ slots {{ start end calendarIds }} }} ... on QueryTooCostly {{ cost budget }}
    ... on Problem {{ message }} }}"""
STAFF_FIELD = """{alias}: availableSlots(calendarId: "{calendar}", serviceId: "{service}", from: "{start}", to: "{end}") {{
    __typename ... on SlotList {{ slots {{ start end }} }} ... on QueryTooCostly {{ cost budget }} ... on Problem {{ message }} }}"""


@dataclass(frozen=True)
class Site:
    """A location of the dataset: its portal and what the cost of its slots depends on."""

    name: str
    slug: str
    service: int
    calendars: tuple[int, ...]
    week_minutes: tuple[int, ...]  # open minutes a week of each calendar
    step: int


@dataclass(frozen=True)
class Shape:
    """A request: `aliases` slot fields over `days` days, on one calendar or any: the portal's
    (anonymous), or staff's availableSlots (one calendar, with the owner's token)."""

    label: str
    site: Site
    days: int
    any_calendar: bool
    aliases: int = 1
    staff: bool = False

    @property
    def cost(self) -> int:
        from core.availability.cost import slot_cost

        minutes = self.site.week_minutes if self.any_calendar else self.site.week_minutes[:1]
        return self.aliases * slot_cost(minutes, self.days, self.site.step)

    def query(self, start: dt.datetime) -> str:
        end = start + dt.timedelta(days=self.days)
        values = {
            "slug": self.site.slug,
            "service": self.site.service,
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        if self.staff:
            fields = [
                STAFF_FIELD.format(alias=f"a{i}", calendar=self.site.calendars[0], **values)
                for i in range(self.aliases)
            ]
        else:
            calendar = "" if self.any_calendar else f', calendarId: "{self.site.calendars[0]}"'
            fields = [PORTAL_FIELD.format(alias=f"a{i}", calendar=calendar, **values) for i in range(self.aliases)]
        return "{\n  " + "\n  ".join(fields) + "\n}"


# ------------------------------------------------------------------ data


async def seed(database_url: str, env: dict[str, str]) -> tuple[dict[str, Site], str]:
    """Migrate and create the three locations with the portal on (through the plugin host); the
    sites and an owner's bearer token."""
    from tortoise import Tortoise

    from app import load_plugins, orm_config
    from core.agendum import Agendum
    from core.availability.cost import open_minutes_per_week
    from core.db import run_migrations
    from core.demo import seed_demo
    from core.models import Calendar, Location, RosterRule, Service, StaffRole, Tier
    from core.plugins import marketplace
    from core.security.access import Staff
    from core.security.accounts import create_admin
    from core.settings import Settings
    from plugins.client_portal.models import PortalAddress

    settings = Settings(
        database_url=database_url,
        secret_key=env["AGENDUM_SECRET_KEY"],
        base_url=env["AGENDUM_BASE_URL"],
        load_entry_points=False,
    )

    async def site(
        owner: Staff, name: str, step: int, roster: list[tuple[int, int, int]], service_minutes: int
    ) -> Site:
        location = await Location.create(
            name=name, timezone=TIMEZONE, currency="GBP", tier=Tier.GOLD, slot_step_minutes=step
        )
        calendars = [await Calendar.create(location=location, name=f"Calendar {i + 1:02}") for i in range(20)]
        await RosterRule.bulk_create(
            [RosterRule(calendar=c, weekday=d, start_minute=s, end_minute=e) for c in calendars for d, s, e in roster]
        )
        service = await Service.create(location=location, name="Visit", duration_minutes=service_minutes)
        await service.calendars.add(*calendars)
        await marketplace.set_enabled(app.plugins, owner, [location.id], "client_portal", True)
        slug = (await PortalAddress.get(location_id=location.id)).slug
        return Site(
            name,
            slug,
            service.id,
            tuple(c.id for c in calendars),
            (open_minutes_per_week(roster),) * len(calendars),
            step,
        )

    host = load_plugins(settings)
    app = Agendum(settings, host)
    try:
        await run_migrations(orm_config(settings, host))
        await Tortoise.close_connections()
        await Tortoise.init(config=orm_config(settings, host))
        await seed_demo(app)
        demo = await Location.get(name="Riverside Clinic")
        calendars = await Calendar.filter(location=demo).order_by("id")
        minutes = [
            open_minutes_per_week(
                await RosterRule.filter(calendar_id=c.id).values_list("weekday", "start_minute", "end_minute")
            )
            for c in calendars
        ]
        service = await Service.filter(location=demo).order_by("id").first()
        slug = (await PortalAddress.get(location_id=demo.id)).slug
        issued = await create_admin("bench@agendum.example", None, settings)
        owner = Staff(issued.user.id, StaffRole.OWNER)
        return {
            "office": await site(owner, "office", 15, OFFICE_HOURS, 30),
            "allday": await site(owner, "allday", 5, ALL_DAY, 5),
            "demo": Site(
                "demo", slug, service.id, tuple(c.id for c in calendars), tuple(minutes), demo.slot_step_minutes
            ),
        }, issued.token
    finally:
        await Tortoise.close_connections()


def largest(label: str, site: Site, any_calendar: bool, budget: int, aliases: int = 1, staff: bool = False) -> Shape:
    """The shape with the most days (at most 62) whose cost stays within `budget`."""
    days = 1
    while days < 62 and Shape(label, site, days + 1, any_calendar, aliases, staff).cost <= budget:
        days += 1
    return Shape(f"{label}, {days} days", site, days, any_calendar, aliases, staff)


# ------------------------------------------------------------------ measuring


async def ask(port: int, query: str, token: str | None) -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(build_request(port, query, token))
        status, body = await read_response(reader)
    finally:
        writer.close()
    return status, json.loads(body)


def outcome(status: int, body: dict) -> str:
    """What the answer was: slots (how many), QueryTooCostly, or anything else (an error)."""
    if status != 200 or body.get("errors"):
        raise RuntimeError(f"unexpected answer ({status}): {json.dumps(body)[:500]}")
    answers = list(body["data"].values())
    kinds = {a["__typename"] for a in answers}
    if kinds <= {"PortalSlotList", "SlotList"}:
        return f"{sum(len(a['slots']) for a in answers):,} slots"
    if kinds == {"QueryTooCostly"}:
        return f"QueryTooCostly (cost {answers[0]['cost']:,}, budget {answers[0]['budget']:,})"
    raise RuntimeError(f"mixed or unexpected answers: {sorted(kinds)} {json.dumps(answers[0])[:300]}")


async def cpu_per_request(server: Server, query: str, token: str | None, runs: int) -> tuple[str, float]:
    """(outcome, median server CPU seconds) of `runs` sequential requests."""
    seen, samples = "", []
    for _ in range(runs):
        before = server.cpu_seconds()
        status, body = await ask(server.port, query, token)
        samples.append(server.cpu_seconds() - before)
        seen = outcome(status, body)
    return seen, statistics.median(samples)


async def healthz_latencies(server: Server, seconds: float, busy_query: str | None) -> tuple[list[float], int]:
    """/healthz latencies (seconds) polled every 20 ms for `seconds`, while `busy_query` (if any)
    runs back to back on another connection; and how many busy requests completed."""
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    completed = 0
    request = f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n".encode()

    async def poll() -> None:
        reader, writer = await asyncio.open_connection(HOST, server.port)
        try:
            while time.perf_counter() < stop:
                sent = time.perf_counter()
                writer.write(request)
                status, _ = await read_response(reader)
                if status != 200:
                    raise RuntimeError(f"/healthz answered {status}")
                latencies.append(time.perf_counter() - sent)
                await asyncio.sleep(0.02)
        finally:
            writer.close()

    async def busy() -> None:
        nonlocal completed
        reader, writer = await asyncio.open_connection(HOST, server.port)
        payload = build_request(server.port, busy_query, None)
        try:
            while time.perf_counter() < stop:
                writer.write(payload)
                status, _ = await read_response(reader)
                if status != 200:
                    raise RuntimeError(f"the busy request answered {status}")
                completed += 1
        finally:
            writer.close()

    await asyncio.gather(poll(), *([busy()] if busy_query else []))
    return latencies, completed


# ------------------------------------------------------------------ run


async def run(args: argparse.Namespace, workdir: Path, servers: list[Server]) -> None:
    database = workdir / "slots.sqlite3"
    env = agendum_env(f"sqlite://{database}")
    env["AGENDUM_SLOT_LIMIT_PER_IP"] = "1000000/60"  # the bench asks from one address, over and over
    sites, token = await seed(env["AGENDUM_DATABASE_URL"], env)
    from core.settings import Settings

    budget, staff_budget = Settings().slot_budget, Settings().staff_slot_budget
    server = Server("agendum", ["--factory", "app:app_from_env"], env, workdir)
    servers.append(server)
    await server.wait_ready(f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n".encode())

    start = dt.datetime.combine(
        dt.datetime.now(ZoneInfo(TIMEZONE)).date() + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(TIMEZONE)
    )
    office, allday, demo = sites["office"], sites["allday"], sites["demo"]
    groups = {
        "must fit": [
            Shape("office: 14 days, any calendar (20)", office, 14, True),
            Shape("office: a month (31 days), one calendar", office, 31, False),
            Shape("allday: a month (31 days), one calendar", allday, 31, False),
        ],
        "must not fit": [
            Shape("demo: 15 aliases x 62 days, any calendar (3)", demo, 62, True, ALIASES),
            Shape("office: 15 aliases x 62 days, any calendar (20)", office, 62, True, ALIASES),
        ],
        "largest allowed": [
            largest("allday: one calendar", allday, False, budget),
            largest("allday: any calendar (20)", allday, True, budget),
            largest(f"allday: {ALIASES} aliases, one calendar", allday, False, budget, ALIASES),
            largest("office: any calendar (20)", office, True, budget),
        ],
        "staff (availableSlots with a bearer token, the staff budget)": [
            largest(f"allday: {ALIASES} aliases, one calendar", allday, False, staff_budget, ALIASES, staff=True),
        ],
    }
    load = os.getloadavg()
    print(
        f"Slot cost benchmark: anonymous portalAvailableSlots on Agendum + SQLite, one uvicorn worker; {os.cpu_count()} CPUs "
        f"shared, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}"
    )
    print(
        f"  customer slot budget (AGENDUM_SLOT_BUDGET) {budget:,}, staff (AGENDUM_STAFF_SLOT_BUDGET) {staff_budget:,}; window from {start.isoformat()}; {args.runs} runs each, median"
    )
    print()
    measured: list[tuple[Shape, str, float]] = []
    for group, shapes in groups.items():
        print(f"{group}:")
        for shape in shapes:
            seen, cpu = await cpu_per_request(server, shape.query(start), token if shape.staff else None, args.runs)
            fits = shape.cost <= (staff_budget if shape.staff else budget)
            if (group == "must not fit") == fits or seen.startswith("QueryTooCostly") == fits:
                raise RuntimeError(f"{shape.label}: cost {shape.cost:,} against budget {budget:,} answered {seen}")
            measured.append((shape, group, cpu))
            per_unit = f"{cpu * 1e6 / shape.cost:6.1f} µs/unit" if fits else ""
            print(f"  {shape.label:<48} cost {shape.cost:>9,}  server CPU {cpu * 1000:8.1f} ms  {per_unit}  -> {seen}")
        print()

    worst, _, worst_cpu = max((m for m in measured if m[1] == "largest allowed"), key=lambda m: m[2])
    verdict = "within" if worst_cpu <= TARGET_CPU_SECONDS * 1.1 else "OVER"
    print(
        f"The largest request the budget allows: {worst.label} (cost {worst.cost:,}): {worst_cpu * 1000:.0f} ms of server CPU "
        f"({verdict} the target of about {TARGET_CPU_SECONDS:.0f} s)"
    )
    print()

    idle, _ = await healthz_latencies(server, args.healthz_seconds / 2, None)
    busy, completed = await healthz_latencies(server, args.healthz_seconds, worst.query(start))
    print(
        f"/healthz every 20 ms for {args.healthz_seconds / 2:g} s idle, then for {args.healthz_seconds:g} s while the largest allowed request "
        f"runs back to back ({completed} completed):"
    )
    for label, samples in (("idle", idle), ("busy", busy)):
        print(
            f"  {label:<5} {len(samples):4} polls  p50 {percentile(samples, 50) * 1000:7.1f} ms  p99 {percentile(samples, 99) * 1000:7.1f} ms"
            f"  max {max(samples) * 1000:7.1f} ms"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--healthz-seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    with workspace("agendum-slot-cost-") as (workdir, servers):
        asyncio.run(run(args, workdir, servers))


if __name__ == "__main__":
    main()
