"""The dev mailbox of demo mode: an SMTP sink (aiosmtpd) inside the app process that keeps the
messages it receives in memory, and the page `GET /dev/mailbox` listing them newest first, so a
newcomer can read the demo's emails and click their links. Demo mode only; nothing is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import itertools
from collections import deque
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from aiosmtpd.smtp import SMTP
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from core.email.smtp import SmtpConfig
from web.pages import not_found_page, render_page
from web.params import reads

KEEP = 500  # the newest messages kept; older ones are forgotten


@dataclass(frozen=True)
class Received:
    """One message the sink accepted."""

    id: int
    received_at: dt.datetime
    envelope_from: str
    envelope_to: tuple[str, ...]
    subject: str
    from_: str
    to: str
    date: str
    message_id: str
    text: str
    ics: str | None
    ics_method: str | None
    size: int


def parse_received(number: int, envelope_from: str, envelope_to: list[str], raw: bytes) -> Received:
    """What the page shows of a raw message: headers, the plain-text body, the calendar file."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    ics = method = None
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            ics = part.get_content()
            if isinstance(ics, bytes):
                ics = ics.decode("utf-8", "replace")
            method = part.get_param("method")
            break
    try:
        date = parsedate_to_datetime(str(message["Date"])).strftime("%a %d %b %Y %H:%M:%S %z")
    except (TypeError, ValueError):
        date = str(message["Date"] or "")
    return Received(
        id=number,
        received_at=dt.datetime.now(dt.UTC),
        envelope_from=envelope_from,
        envelope_to=tuple(envelope_to),
        subject=str(message["Subject"] or "(no subject)"),
        from_=str(message["From"] or envelope_from),
        to=str(message["To"] or ", ".join(envelope_to)),
        date=date,
        message_id=str(message["Message-ID"] or ""),
        text=text.replace("\r\n", "\n"),
        ics=ics.replace("\r\n", "\n") if ics else None,
        ics_method=str(method) if method else None,
        size=len(raw),
    )


class DevMailbox:
    """An SMTP server on a free loopback port, run on the app's event loop, keeping what arrives."""

    def __init__(self, keep: int = KEEP, host: str = "127.0.0.1") -> None:
        self.host = host
        self.messages: deque[Received] = deque(maxlen=keep)
        self._numbers = itertools.count(1)
        self._server: asyncio.AbstractServer | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Listen on a free port (aiosmtpd's Controller cannot take port 0, a plain server can)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="agendum-dev-mailbox", ident="Agendum dev mailbox", enable_SMTPUTF8=True),
            self.host,
            0,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def smtp(self) -> SmtpConfig:
        """Where the outbox worker sends to while the dev mailbox runs."""
        if self.port is None:
            raise RuntimeError("the dev mailbox is not started")
        return SmtpConfig(host=self.host, port=self.port, timeout=5.0)

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd handler hook
        number = next(self._numbers)
        try:
            received = parse_received(number, envelope.mail_from, envelope.rcpt_tos, envelope.content)
        except Exception as error:  # noqa: BLE001 - show what could not be read rather than refuse it
            received = Received(
                number,
                dt.datetime.now(dt.UTC),
                envelope.mail_from,
                tuple(envelope.rcpt_tos),
                f"(unreadable message: {type(error).__name__})",
                envelope.mail_from,
                ", ".join(envelope.rcpt_tos),
                "",
                "",
                envelope.content.decode("utf-8", "replace"),
                None,
                None,
                len(envelope.content),
            )
        self.messages.append(received)
        return "250 Message accepted for delivery"

    def find(self, number: int) -> Received | None:
        return next((m for m in self.messages if m.id == number), None)

    # -------------------------------------------------------------- pages

    @reads()
    async def page(self, request: Request) -> HTMLResponse:
        """GET /dev/mailbox: every message kept, newest first."""
        return await render_page(
            request,
            "dev_mailbox.html",
            {
                "title": "Dev mailbox",
                "messages": list(reversed(self.messages)),
                "keep": self.messages.maxlen,
                "port": self.port,
            },
        )

    @reads()
    async def calendar_file(self, request: Request) -> Response:
        """GET /dev/mailbox/{id}/invite.ics: a message's calendar file, to open in a calendar app
        (the 404 page when there is none)."""
        received = self.find(request.path_params["number"])
        if received is None or received.ics is None:
            return await not_found_page(request)
        return Response(
            received.ics.replace("\n", "\r\n"),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="invite.ics"', "Cache-Control": "no-store"},
        )

    def routes(self) -> list[Route]:
        return [
            Route("/dev/mailbox", self.page, methods=["GET"]),
            Route("/dev/mailbox/{number:int}/invite.ics", self.calendar_file, methods=["GET"]),
        ]
