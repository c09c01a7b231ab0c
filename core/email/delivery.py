"""The outbox worker: sends queued emails over reused SMTP connections, at least once.

A `Worker` runs a few lanes side by side, each with its own SMTP connection, kept open while
there is work. A lane claims a batch of due messages with a lease (core/email/outbox.py), sends them
one after another, and records what the server answered; each answer to a message is one try,
counted in its `attempts`:

- accepted: SENT with `sent_at` (written in small group commits, see `SentRecorder`);
- 4xx: one try spent, queued again after an exponential backoff; FAILED once the tries run out;
- 5xx: FAILED, the answer in `last_error`; a message that cannot be written at all (a broken
  address) fails the same way without spending a try;
- no answer (connection refused, timeout, hang-up, 421 "closing"): the server is unreachable,
  not the message at fault. The lane gives its leases back untouched and the whole worker pauses
  with a capped exponential backoff. Tries are only spent on the server's answers to a message.

A body keeps its secret links as references (core.email.secrets), resolved as the message is
sent, to the same links on every try; one that cannot be resolved fails the message without
spending a try. A reminder whose appointment is gone, cancelled, moved (another `sequence`) or
already started is marked VOID instead. A killed worker loses nothing: its leases expire and another worker
sends again, with the same Message-ID (only what was in flight goes twice). Two live workers
never send one message twice: claims are exclusive, and a lane sends the next message of its
batch only while there is time left on its lease to send and record it.

`wake()` makes an idle worker look at once (a booking in this process was just committed, or a
test moved core.clock); otherwise it polls every `poll_interval` seconds. `idle` is set while it
waits so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import TYPE_CHECKING

import aiosmtplib

from core import clock
from core.email import mime, outbox, secrets as email_secrets
from core.email.mime import Envelope
from core.email.outbox import Claimed
from core.email.secrets import UnreadableLink
from core.email.smtp import SmtpConfig
from core.models import Location

if TYPE_CHECKING:
    from core.agendum import Agendum

log = logging.getLogger("agendum.delivery")
TEMPORARY_CLOSE = 421  # "service not available, closing channel": the server is going away


@dataclass(frozen=True)
class DeliveryConfig:
    """How hard a worker pushes and how patiently it retries (seconds unless said otherwise)."""

    lanes: int = 4  # SMTP connections used side by side
    batch_size: int = 25  # messages one lane claims at a time
    lease_seconds: float = 300.0  # how long a claim is exclusive (raised to `shortest_lease` when shorter)
    poll_interval: float = 5.0  # how often an idle worker looks for due messages
    max_attempts: int = 8  # server answers (4xx) before a message is given up as FAILED
    retry_base: float = 60.0  # backoff after a 4xx answer: base * 2**(tries - 1) ...
    retry_cap: float = 3600.0  # ... capped here
    outage_base: float = 1.0  # pause while the server is unreachable: base * 2**(outages - 1) ...
    outage_cap: float = 30.0  # ... capped here
    max_per_connection: int = 1000  # then reconnect (relays limit messages per session)

    def __post_init__(self) -> None:
        for name in ("lanes", "batch_size", "max_attempts", "max_per_connection"):
            if getattr(self, name) < 1:
                raise ValueError(f"DeliveryConfig.{name} must be at least 1")
        for name in ("lease_seconds", "poll_interval", "retry_base", "retry_cap", "outage_base", "outage_cap"):
            if not getattr(self, name) > 0:
                raise ValueError(f"DeliveryConfig.{name} must be above 0")

    def retry_delay(self, tries: int) -> float:
        """The wait before the next try after `tries` temporary refusals."""
        return min(self.retry_cap, self.retry_base * 2 ** min(tries - 1, 30))

    def outage_delay(self, outages: int) -> float:
        """The pause after `outages` failed attempts in a row to reach the server."""
        return min(self.outage_cap, self.outage_base * 2 ** min(outages - 1, 30))


@dataclass
class DeliveryStats:
    """What one worker did since it started."""

    sent: int = 0
    retried: int = 0  # 4xx answers
    failed: int = 0
    voided: int = 0
    released: int = 0  # leases given back unspent (server unreachable, or stopping)
    outages: int = 0  # pauses because the server could not be reached
    claimed: int = 0
    errors: list[str] = field(default_factory=list)  # the last few unexpected errors


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or gave no answer: not the message's fault."""


@dataclass(frozen=True)
class Refused:
    """The server's answer refusing a message (or why the message cannot be sent at all)."""

    code: int | None
    text: str

    @property
    def temporary(self) -> bool:
        return self.code is not None and not 500 <= self.code <= 599

    def __str__(self) -> str:
        return f"{self.code} {self.text}" if self.code is not None else self.text


# ------------------------------------------------------------------ the message


def envelope_of(
    row: Claimed,
    mail_from: str,
    *,
    subject: str | None = None,
    body: str | None = None,
    reply_to: str | None = None,
    date: dt.datetime | None = None,
) -> Envelope:
    """The email of an outbox row: plain-text UTF-8 body, `invite.ics` attached when it has one
    (`subject`, `body`: the row's with their secret links resolved, core.email.secrets). The
    Message-ID is the row's, so every (re)send of it carries the same one."""
    return mime.build(
        mail_from=mail_from,
        to=row.to_address,
        subject=row.subject if subject is None else subject,
        body=row.body if body is None else body,
        message_id=row.message_id,
        ics=row.ics,
        reply_to=reply_to or None,
        date=date or clock.now(),
    )


# ------------------------------------------------------------------ one SMTP connection


class Connection:
    """One SMTP session, opened when first needed and reused for message after message."""

    def __init__(self, config: SmtpConfig, local_hostname: str, max_messages: int) -> None:
        self.config = config
        self.local_hostname = local_hostname
        self.max_messages = max_messages
        self.client: aiosmtplib.SMTP | None = None
        self.messages = 0

    @property
    def is_open(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def open(self) -> aiosmtplib.SMTP:
        """The connected client; SmtpUnavailable if the server cannot be reached or refuses us."""
        if self.is_open and self.messages < self.max_messages:
            assert self.client is not None  # is_open
            return self.client
        await self.close()
        client = aiosmtplib.SMTP(**self.config.client_options(), local_hostname=self.local_hostname)
        try:
            await client.connect()
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as error:
            client.close()
            raise SmtpUnavailable(f"cannot connect to {self.config.describe()}: {_describe(error)}") from None
        self.client, self.messages = client, 0
        return client

    async def send(self, envelope: Envelope) -> Refused | None:
        """Send one message: None when accepted, the refusal when the server answered no.
        SmtpUnavailable when there was no answer (the connection is then closed)."""
        fresh = not self.is_open
        while True:
            client = await self.open()
            try:
                await client.sendmail(envelope.sender, [envelope.recipient], envelope.data)
                self.messages += 1
                return None
            except aiosmtplib.SMTPRecipientsRefused as error:
                first = error.recipients[0]
                refused = Refused(first.code, first.message)
            except (TimeoutError, aiosmtplib.SMTPTimeoutError) as error:
                # Slow, not gone: back off. (If the message itself was through, it goes again
                # later with the same Message-ID: at-least-once.)
                self.drop()
                raise SmtpUnavailable(f"no answer from {self.config.describe()}: {_describe(error)}") from None
            except (aiosmtplib.SMTPServerDisconnected, OSError) as error:
                self.drop()
                if not fresh:  # a session kept open may have been closed by the server meanwhile
                    fresh = True
                    continue
                raise SmtpUnavailable(f"{self.config.describe()} hung up: {_describe(error)}") from None
            except aiosmtplib.SMTPResponseException as error:
                refused = Refused(error.code, error.message)
            except (aiosmtplib.SMTPNotSupported, ValueError) as error:  # e.g. an address SMTP cannot carry
                return Refused(None, f"cannot be sent: {error}")
            except aiosmtplib.SMTPException as error:
                self.drop()
                raise SmtpUnavailable(f"SMTP error with {self.config.describe()}: {_describe(error)}") from None
            if refused.code == TEMPORARY_CLOSE:
                self.drop()
                raise SmtpUnavailable(f"{self.config.describe()} is closing: {refused}")
            if not self.is_open:
                self.drop()
            return refused

    def drop(self) -> None:
        if self.client is not None:
            self.client.close()
        self.client = None

    async def close(self) -> None:
        """QUIT politely if the session is open; never raises."""
        client, self.client = self.client, None
        if client is None:
            return
        if client.is_connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.quit(), self.config.timeout)
        client.close()


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# ------------------------------------------------------------------ recording SENT


class SentRecorder:
    """Group commit of SENT marks. Lanes add a message the moment the server accepts it and go
    on sending; one UPDATE at a time writes everything gathered since the previous one. So a
    worker killed at any moment re-sends only the few messages accepted during the last write,
    and busy lanes share their writes instead of each paying one per message."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._pending: list[int] = []
        self._task: asyncio.Task | None = None

    def add(self, message_id: int) -> None:
        self._pending.append(message_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._write(), name=f"outbox-sent-{self.worker.worker_id}")

    async def _write(self) -> None:
        while self._pending:
            ids, self._pending = self._pending, []
            try:
                done = await outbox.mark_sent(ids, self.worker.worker_id, clock.now())
            except Exception:  # noqa: BLE001 - the leases expire and the messages go again
                log.exception("could not record %d messages as SENT; they will be sent again", len(ids))
                continue
            self.worker.stats.sent += done

    async def flush(self) -> None:
        """Until everything added so far is written."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


# ------------------------------------------------------------------ the worker

STOP_GRACE = 10.0  # seconds a stopping worker's lanes get to finish the message in hand


def _being_cancelled() -> bool:
    """True when the running task has been asked to stop (a database driver may surface that as
    an error of its own, which must not be mistaken for a hiccup to retry)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def message_budget(smtp: SmtpConfig) -> float:
    """The longest one message may take, connecting included (4 x the SMTP timeout); beyond it
    the server counts as unreachable."""
    return 4 * smtp.timeout


def shortest_lease(smtp: SmtpConfig) -> float:
    """The shortest lease a worker sending to `smtp` holds (12 x its timeout): a lane sends the
    next message of a batch only while twice the message budget is left on its lease, so a lease
    never runs out with a message in flight or unrecorded. A shorter configured lease is raised to it."""
    return 3 * message_budget(smtp)


class Worker:
    """Delivers the outbox over SMTP until stopped; see the module docstring for the rules."""

    def __init__(
        self,
        app: Agendum,
        smtp: SmtpConfig,
        mail_from: str,
        config: DeliveryConfig | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.app = app  # its settings open the emails' links, its plugins make them; app.wake_workers() wakes this one
        self.smtp = smtp
        self.mail_from = mail_from
        self.config = config or DeliveryConfig()
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")[:100]
        self.local_hostname = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
        self.message_budget = message_budget(smtp)
        self.lease_seconds = max(self.config.lease_seconds, shortest_lease(smtp))
        if self.lease_seconds > self.config.lease_seconds:
            log.info("outbox leases last %gs (12 x the SMTP timeout of %gs)", self.lease_seconds, smtp.timeout)
        self.stats = DeliveryStats()
        self._sent = SentRecorder(self)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()  # the poller (lane 0) waits on this
        self._more = asyncio.Event()  # helper lanes wait on this: a full batch suggests more
        self.idle = asyncio.Event()  # set while the poller waits for the next poll or a wake()
        self._paused_until = 0.0  # time.monotonic()
        self._outages_in_row = 0
        self._reply_to: dict[int, str] = {}
        self._reply_to_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._active = False

    # -------------------------------------------------------------- control

    def wake(self) -> None:
        """Look for due messages now instead of at the next poll (safe from any thread)."""
        loop = self._loop
        if loop is None or not self._active:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._signal()
        else:
            loop.call_soon_threadsafe(self._signal)

    def _signal(self) -> None:
        self._wake.set()
        if not self.idle.is_set():
            self._more.set()

    def stop(self) -> None:
        """Finish the message in hand, give back the other leases, close connections, return."""
        self._stopping.set()
        self._wake.set()
        self._more.set()

    @property
    def paused_for(self) -> float:
        """Seconds left of the current pause (the SMTP server was unreachable); 0 when not paused."""
        return max(0.0, self._paused_until - time.monotonic())

    async def run(self) -> None:
        """Deliver until `stop()`."""
        await self._run(until_idle=False)

    async def drain(self) -> DeliveryStats:
        """Deliver everything that is due now (waiting out SMTP outages), then return the stats."""
        await self._run(until_idle=True)
        return self.stats

    async def _run(self, until_idle: bool) -> None:
        if self._active:
            raise RuntimeError("this worker is already running")
        self._active = True
        self._loop = asyncio.get_running_loop()
        self._stopping.clear()
        self.app.workers.add(self)
        log.info(
            "outbox worker %s delivering to %s with %d lanes", self.worker_id, self.smtp.describe(), self.config.lanes
        )
        try:
            lanes = [asyncio.create_task(self._lane(i, until_idle)) for i in range(self.config.lanes)]
            try:
                # asyncio.wait, not gather: a cancelled worker must get to its clean-up even if a
                # lane does not end at once (gather would wait for every lane to finish first).
                done, _ = await asyncio.wait(lanes, return_when=asyncio.FIRST_EXCEPTION)
                for lane in done:
                    lane.result()  # a lane that failed fails the worker
            finally:
                # Stop the lanes by flag as well as by cancellation: a cancellation can be lost on
                # its way through a library (an SMTP client reporting it as a hang-up, Python 3.11's
                # wait_for), and a lane must not carry on.
                self.stop()
                for lane in lanes:
                    lane.cancel()
                await asyncio.wait(lanes, timeout=STOP_GRACE)
                await self._sent.flush()
        finally:
            self.app.workers.discard(self)
            self._active = False

    # -------------------------------------------------------------- lanes

    async def _lane(self, index: int, until_idle: bool) -> None:
        connection = Connection(self.smtp, self.local_hostname, self.config.max_per_connection)
        try:
            while not self._stopping.is_set():
                if self.paused_for:
                    await self._sleep(self.paused_for)
                    continue
                try:
                    claimed = await self._claim()
                    if claimed:
                        await self._deliver(claimed, connection)
                except Exception as error:  # noqa: BLE001 - a lane must survive a database hiccup
                    if _being_cancelled():  # the driver turned our cancellation into an error: stop, do not retry
                        raise asyncio.CancelledError() from error
                    log.exception("outbox lane %d of %s failed; retrying", index, self.worker_id)
                    self.stats.errors = [*self.stats.errors[-9:], _describe(error)]
                    await connection.close()
                    await self._sleep(min(self.config.poll_interval, self.config.outage_cap))
                    continue
                if len(claimed) >= self.config.batch_size:
                    self._more.set()  # probably more: idle helpers join in
                    continue
                if not claimed:
                    await connection.close()  # nothing due: do not hold a session open
                    if until_idle:
                        return
                elif until_idle:
                    continue
                await self._idle(index)
        finally:
            await connection.close()

    async def _idle(self, index: int) -> None:
        if index == 0:
            self.idle.set()
            try:
                await self._wait(self._wake, self.config.poll_interval)
            finally:
                self.idle.clear()
            self._wake.clear()
        else:
            await self._wait(self._more, None)
            self._more.clear()

    async def _wait(self, event: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but return at once when stopping."""
        await self._wait(self._stopping, seconds)

    async def _claim(self) -> list[Claimed]:
        now = clock.now()
        claimed = await outbox.claim(
            self.config.batch_size, self.worker_id, now, now + dt.timedelta(seconds=self.lease_seconds)
        )
        self.stats.claimed += len(claimed)
        return claimed

    async def _deliver(self, claimed: list[Claimed], connection: Connection) -> None:
        """Send a claimed batch over one connection and record every outcome."""
        stale = await outbox.stale_reminders(claimed, clock.now())
        for message_id, reason in stale.items():
            done = await outbox.mark_void(message_id, self.worker_id, reason)
            self.stats.voided += done
        pending = [row for row in claimed if row.id not in stale]
        reply_to = await self._reply_addresses({row.location_id for row in pending})
        try:
            links = await email_secrets.links_for(
                self.app.plugins, (text for row in pending for text in (row.subject, row.body))
            )
            while pending and not self._stopping.is_set():
                row = pending[0]
                if clock.now() + dt.timedelta(seconds=2 * self.message_budget) >= row.lease_until:
                    break  # not enough lease left to send and record it: give it back
                refused = await self._send(connection, row, reply_to.get(row.location_id), links)
                pending.pop(0)
                if refused is None:
                    self._sent.add(row.id)
                else:
                    await self._refused(row, refused)
        except SmtpUnavailable as error:
            self._outage(str(error))
        finally:
            if pending:
                done = await outbox.release([row.id for row in pending], self.worker_id)
                self.stats.released += done

    async def _send(self, connection: Connection, row: Claimed, reply_to: str | None, links) -> Refused | None:
        try:
            subject, body = email_secrets.filled(row.subject, links), email_secrets.filled(row.body, links)
            envelope = envelope_of(row, self.mail_from, subject=subject, body=body, reply_to=reply_to)
        except (ValueError, TypeError, IndexError, UnreadableLink) as error:  # e.g. a header with a line break
            return Refused(None, f"cannot be built: {error}")
        try:
            refused = await asyncio.wait_for(connection.send(envelope), self.message_budget)
        except TimeoutError:
            connection.drop()
            raise SmtpUnavailable(f"no answer from {self.smtp.describe()} within {self.message_budget:g}s") from None
        if self._outages_in_row:
            log.info("outbox worker %s reached %s again", self.worker_id, self.smtp.describe())
        self._outages_in_row = 0
        return refused

    async def _refused(self, row: Claimed, refused: Refused) -> None:
        tries = row.attempts + 1
        if refused.temporary and tries < self.config.max_attempts:
            delay = self.config.retry_delay(tries)
            send_after = clock.now() + dt.timedelta(seconds=delay)
            done = await outbox.retry_later(row.id, self.worker_id, send_after, str(refused)[:2000])
            self.stats.retried += done
            log.info("message %s refused (%s); try %d again in %gs", row.id, refused, tries + 1, delay)
            return
        if refused.temporary:
            error = f"Gave up after {tries} tries; last answer: {refused}"
        elif refused.code is None:
            error = f"The message {refused}"
        else:
            error = f"Refused: {refused}"
        done = await outbox.mark_failed(row.id, self.worker_id, error[:2000], spent=refused.code is not None)
        self.stats.failed += done
        log.warning("message %s failed: %s", row.id, error)  # never the recipient's address

    def _outage(self, reason: str) -> None:
        """The server could not be reached: pause every lane (once per outage, not per lane)."""
        if self.paused_for:
            return
        self._outages_in_row += 1
        self.stats.outages += 1
        delay = self.config.outage_delay(self._outages_in_row)
        self._paused_until = time.monotonic() + delay
        log.warning("outbox worker %s: %s; pausing %gs (no message's tries spent)", self.worker_id, reason, delay)

    async def _reply_addresses(self, location_ids: set[int]) -> dict[int, str]:
        """Each location's contact email (Reply-To), cached for a minute."""
        if time.monotonic() - self._reply_to_at > 60:
            self._reply_to, self._reply_to_at = {}, time.monotonic()
        missing = location_ids - self._reply_to.keys()
        if missing:
            for row in await Location.filter(id__in=missing).values("id", "contact_email"):
                self._reply_to[row["id"]] = row["contact_email"] or ""
        return {i: self._reply_to.get(i, "") for i in location_ids}
