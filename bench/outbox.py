"""Outbox delivery benchmark: how fast the outbox worker empties a queue of emails.

What it measures
  N emails (default 1,000) are queued as outbox rows in a fresh database (temp SQLite file, or
  the PostgreSQL server given with --postgres: a temp database is created and dropped). Each has
  a ~700-byte plain-text body with a customer's link, stored as the outbox stores it (a sealed
  reference, opened as the message is sent: core.email.secrets); every other one carries an .ics
  invite, like a booking email. An SMTP sink (aiosmtpd, accepting everything, counting Message-IDs) runs in a
  separate process on a loopback port. The real worker (core.email.delivery.Worker, the same code the
  app and `agendum worker` run) then drains the queue in this process: claims with a lease,
  builds each message, sends over reused connections in parallel lanes, records SENT.
  The clock runs from the first claim to the last SENT row recorded.

How to read it
  messages/s  emails delivered per second, recorded as SENT (higher is better; target >= 500).
  sink        what the SMTP server received: total and distinct Message-IDs (equal: no duplicates).
  cpu         share of one core this process (the worker) used while draining; near 100% means
              the worker, not the SMTP server or the database, is the limit. The sink's share
              is shown too: near 100% means the test SMTP server is the limit.
  The machine has 2 cores shared by worker, sink and database: compare runs on one machine.

Usage: .venv/bin/python bench/outbox.py [--messages 1000] [--lanes 10] [--batch 50] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

BODY = (
    "Dear Ada Lovelace,\n\nyour appointment for Consultation with Dr Ada Patel at Riverside Clinic is booked for "
    "Tuesday 24 November 2026 at 10:30.\n\nTo confirm, reschedule or cancel, open:\n"
    "{link}\n\n"
    "If you cannot make it, please let us know at least 24 hours before, so that someone else can have the time.\n"
    "Our cancellation policy: appointments cancelled later than 24 hours before their start may be charged.\n\n"
    "See you soon,\nRiverside Clinic\n+44 20 7946 0000\nhello@riverside.example\n"
)
ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Agendum//Appointments//EN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        "UID:appointment-{n}@agendum.example",
        "SEQUENCE:0",
        "DTSTAMP:20261121T100000Z",
        "DTSTART:20261124T103000Z",
        "DTEND:20261124T110000Z",
        "SUMMARY:Consultation at Riverside Clinic",
        "LOCATION:Riverside Clinic",
        "ORGANIZER;CN=Riverside Clinic:mailto:hello@riverside.example",
        "ATTENDEE;CN=Ada Lovelace;RSVP=TRUE:mailto:ada{n}@example.com",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


# ------------------------------------------------------------------ the SMTP sink (own process)


def run_sink(port_file: str) -> None:
    """Accept every message, count them and their distinct Message-IDs; print JSON on SIGTERM."""
    import signal
    from email.parser import BytesHeaderParser

    from aiosmtpd.smtp import SMTP

    received: list[str] = []
    clock: dict[str, float] = {}  # wall and CPU time at the first and the last message
    headers = BytesHeaderParser()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(str(headers.parsebytes(envelope.content)["Message-ID"]))
            clock.setdefault("wall0", time.perf_counter())
            clock.setdefault("cpu0", time.process_time())
            clock["wall1"], clock["cpu1"] = time.perf_counter(), time.process_time()
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler(), hostname="sink", ident="bench sink"), "127.0.0.1", 0)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        server.close()
        wall = clock.get("wall1", 0) - clock.get("wall0", 0)
        cpu = clock.get("cpu1", 0) - clock.get("cpu0", 0)
        print(
            json.dumps(
                {"received": len(received), "distinct": len(set(received)), "cpu_share": cpu / wall if wall else 0}
            ),
            flush=True,
        )

    asyncio.run(main())


# ------------------------------------------------------------------ database


def create_postgres(url: str, name: str) -> str:
    import asyncpg

    async def work() -> None:
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(work())
    return url.rpartition("/")[0] + f"/{name}"


def drop_postgres(url: str, name: str) -> None:
    import asyncpg

    async def work() -> None:
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(work())


LINK = "https://agendum.example/portal/riverside/password/3q2-7lqW0u8oHk1mJd0bT9rKXyZ4fG6hN2pQwErTyU"
SECRET = "bench-only-secret-6v1Xq0Zs8LkP3nJ7dR2wT5yB9mC4hF0aGeUiOoKtWxYz"


async def queue(count: int, settings) -> None:
    from core.email.secrets import sealed_link
    from core.models import Location, OutboxMessage, RecipientRole

    location = await Location.create(
        name="Riverside Clinic", timezone="Europe/London", currency="GBP", contact_email="hello@riverside.example"
    )
    now = dt.datetime.now(dt.UTC)
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                location=location,
                event="APPOINTMENT_BOOKED",
                role=RecipientRole.CUSTOMER,
                to_address=f"ada{n}@example.com",
                subject=f"Your appointment at Riverside Clinic (#{n})",
                body=BODY.format(link=sealed_link(LINK, settings)),
                ics=ICS.format(n=n) if n % 2 == 0 else None,
                message_id=f"<bench-{n}@agendum.example>",
                send_after=now,
            )
            for n in range(count)
        ],
        batch_size=500,
    )


async def deliver(database_url: str, port: int, args) -> dict:
    from tortoise import Tortoise

    from core.agendum import Agendum
    from core.db import run_migrations, tortoise_config
    from core.email.delivery import DeliveryConfig, Worker
    from core.email.smtp import parse_smtp_url
    from core.models import DeliveryStatus, OutboxMessage
    from core.plugins.host import PluginHost
    from core.settings import Settings

    app = Agendum(
        Settings(database_url=database_url, secret_key=SECRET), PluginHost()
    )  # no plugins; its key seals and opens the links
    config = tortoise_config(database_url)
    try:
        await run_migrations(config)
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config)
    try:
        await queue(args.messages, app.settings)
        smtp = parse_smtp_url(f"smtp://127.0.0.1:{port}")
        delivery = DeliveryConfig(lanes=args.lanes, batch_size=args.batch)
        worker = Worker(app, smtp, "Riverside Clinic <no-reply@agendum.example>", delivery)
        cpu, start = time.process_time(), time.perf_counter()
        stats = await worker.drain()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        sent = await OutboxMessage.filter(status=DeliveryStatus.SENT).count()
        return {
            "elapsed": elapsed,
            "cpu": cpu,
            "sent_rows": sent,
            "stats": stats,
            "smtp": smtp.describe(),
            "delivery": delivery,
        }
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--lanes", type=int, default=10, help="parallel SMTP connections (default 10)")
    parser.add_argument("--batch", type=int, default=50, help="messages claimed per lane at a time (default 50)")
    parser.add_argument(
        "--postgres", metavar="URL", help="use a temp database on this PostgreSQL server instead of SQLite"
    )
    parser.add_argument("--sink", metavar="PORT_FILE", help=argparse.SUPPRESS)  # internal: run as the SMTP sink
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink)
        return
    try:
        import uvloop

        loop_factory, loop_name = uvloop.new_event_loop, "uvloop"
    except ImportError:
        loop_factory, loop_name = None, "asyncio"

    workdir = Path(tempfile.mkdtemp(prefix="agendum-bench-outbox-"))
    pg_name = f"agendum_bench_outbox_{os.getpid()}"
    sink = None
    try:
        port_file = workdir / "sink.port"
        sink = subprocess.Popen([sys.executable, __file__, "--sink", str(port_file)], stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if sink.poll() is not None or time.monotonic() > deadline:
                sys.exit("the SMTP sink did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        if args.postgres:
            database_url, database = (
                create_postgres(args.postgres, pg_name),
                f"PostgreSQL ({args.postgres.rpartition('@')[2]})",
            )
        else:
            database_url, database = f"sqlite://{workdir / 'bench.sqlite3'}", "SQLite (temp file, WAL)"
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            result = runner.run(deliver(database_url, port, args))
        sink.terminate()
        received = json.loads(sink.communicate(timeout=30)[0].strip().splitlines()[-1])
        sink = None
    finally:
        if sink is not None:
            sink.kill()
        if args.postgres:
            drop_postgres(args.postgres, pg_name)
        shutil.rmtree(workdir, ignore_errors=True)

    stats, delivery = result["stats"], result["delivery"]
    rate = result["sent_rows"] / result["elapsed"]
    print("Outbox delivery benchmark")
    print(
        f"  messages   {args.messages} queued (~{len(BODY.format(link=LINK))}-byte body as sent, .ics on every other one)"
    )
    print(f"  database   {database}")
    print(f"  smtp       aiosmtpd sink in a separate process at {result['smtp']}")
    print(
        f"  worker     {delivery.lanes} lanes (connections) x batches of {delivery.batch_size}, lease {delivery.lease_seconds:g}s, "
        f"event loop {loop_name}, python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    print(
        f"  result     {result['sent_rows']} SENT in {result['elapsed']:.2f}s = {rate:.0f} messages/s "
        f"(target >= 500: {'met' if rate >= 500 else 'NOT met'})"
    )
    print(
        f"  sink       {received['received']} received, {received['distinct']} distinct Message-IDs; "
        f"sink process {100 * received['cpu_share']:.0f}% of one core while receiving"
    )
    print(
        f"  cpu        worker process {100 * result['cpu'] / result['elapsed']:.0f}% of one core "
        f"({1000 * result['cpu'] / max(1, result['sent_rows']):.2f} ms per message); "
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
    )
    print(
        f"  worker     stats: {stats.sent} sent, {stats.retried} retried, {stats.failed} failed, "
        f"{stats.released} released, {stats.outages} outages"
    )


if __name__ == "__main__":
    main()
