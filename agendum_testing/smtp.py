"""A real SMTP server for tests: aiosmtpd on a free loopback port in the test's event loop, which
records every message it accepts and can misbehave on request — answer 4xx/5xx, stall, hold every
answer until the test lets it go (`gate`), go down
(connection refused), hang up at once, or accept connections and never answer — always on the
same port, as a real relay restarting would."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope

from agendum_testing.server import free_socket

Answer = Callable[[Envelope], str | None]  # an SMTP reply such as "451 4.3.0 Later", or None to accept


@dataclass
class Mail:
    """One accepted message: the envelope and the parsed message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.server.on_rcpt(address) if self.server.on_rcpt else None
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.server.data_commands += 1
        await self.server.gate.wait()
        if self.server.delay:
            await asyncio.sleep(self.server.delay)
        answer = self.server.on_data(envelope) if self.server.on_data else None
        if answer:
            return answer
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.server.received.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 2.0.0 Accepted"


class SmtpServer:
    """The test's SMTP server. `mode` is one of: up, down (refused), hangup, silent."""

    def __init__(self) -> None:
        with free_socket() as sock:
            self.port = sock.getsockname()[1]
        self.received: list[Mail] = []
        self.on_data: Answer | None = None
        self.on_rcpt: Callable[[str], str | None] | None = None
        self.delay = 0.0
        self.gate = asyncio.Event()  # cleared: every message waits for its answer until it is set again
        self.gate.set()
        self.data_commands = 0
        self.connections = 0
        self.mode = "down"
        self._server: asyncio.AbstractServer | None = None
        self._transports: set[asyncio.BaseTransport] = set()

    def url(self, timeout: float = 1.0) -> str:
        """The server as `AGENDUM_SMTP_URL` names it, with the client's timeout in seconds."""
        return f"smtp://127.0.0.1:{self.port}?timeout={timeout:g}"

    async def up(self) -> SmtpServer:
        """Answer as a normal SMTP server."""
        return await self._listen("up", self._smtp)

    async def hangup(self) -> SmtpServer:
        """Accept connections and close them before saying anything."""
        return await self._listen("hangup", lambda: _Hangup(self))

    async def silent(self) -> SmtpServer:
        """Accept connections and never answer."""
        return await self._listen("silent", lambda: _Silent(self))

    async def down(self) -> SmtpServer:
        """Stop listening and drop every open connection: connections are refused."""
        if self._server is not None:
            self._server.close()
            for transport in list(self._transports):
                transport.abort()
            self._transports.clear()
            await self._server.wait_closed()
            self._server = None
        self.mode = "down"
        return self

    def _smtp(self):
        protocol = SMTP(_Handler(self), hostname="test-smtp", ident="test SMTP", timeout=30)
        original = protocol.connection_made

        def connection_made(transport):
            self.connections += 1
            self._transports.add(transport)
            original(transport)

        protocol.connection_made = connection_made
        return protocol

    async def _listen(self, mode: str, factory) -> SmtpServer:
        await self.down()
        loop = asyncio.get_running_loop()
        for _ in range(50):  # the port may linger a moment after the previous listener
            try:
                self._server = await loop.create_server(factory, "127.0.0.1", self.port, reuse_address=True)
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"cannot listen on port {self.port} again")
        self.mode = mode
        return self

    def message_ids(self) -> Counter:
        """How often each Message-ID arrived."""
        return Counter(mail.message_id for mail in self.received)

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        """Until at least `count` messages arrived (or fail after `timeout` seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} messages arrived within {timeout}s")
            await asyncio.sleep(0.02)

    async def settle(self, timeout: float = 20.0) -> None:
        """Until the outbox holds nothing due that is not yet delivered or given up on (the worker
        marks a row SENT only after this server accepted it), so `received` stops growing."""
        from core import clock
        from core.models import DeliveryStatus, OutboxMessage

        deadline = asyncio.get_running_loop().time() + timeout
        pending = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
        while await OutboxMessage.filter(status__in=pending, send_after__lte=clock.now()).exists():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the outbox still had due messages after {timeout}s")
            await asyncio.sleep(0.02)


class _Hangup(asyncio.Protocol):
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def connection_made(self, transport) -> None:
        self.server.connections += 1
        transport.close()


class _Silent(asyncio.Protocol):
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def connection_made(self, transport) -> None:
        self.server.connections += 1
        self.server._transports.add(transport)
