"""An outbox message as the bytes of a MIME email, ready for SMTP.

Written directly rather than through the stdlib's `EmailMessage`: its header registry parses
every header it is given and costs 1-2 ms per message, which alone would cap delivery near
500 messages per second on one core; this costs ~0.02 ms. The output is plain, 7-bit clean
MIME (RFC 2047 encoded words for non-ASCII headers, quoted-printable for non-ASCII bodies),
checked in tests by parsing it back with the stdlib.

    From, To, [Reply-To], Subject, Date, Message-ID, MIME-Version, Auto-Submitted
    text/plain; charset=utf-8                                 the body
    multipart/mixed: text/plain + text/calendar; method=...   when there is a calendar file,
                     attached as invite.ics
"""

from __future__ import annotations

import binascii
import datetime as dt
import re
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import format_datetime, formataddr, getaddresses, parseaddr

MAX_LINE = 900  # SMTP allows 998 octets per line; longer lines go quoted-printable
_METHOD = re.compile(r"^METHOD:([A-Za-z-]+)\s*$", re.MULTILINE)
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII, no < > or spaces inside


@dataclass(frozen=True)
class Envelope:
    """What goes over SMTP: the envelope addresses and the message bytes (CRLF line ends)."""

    sender: str
    recipient: str
    data: bytes


def mailbox(value: str, what: str) -> tuple[str, str]:
    """(header form, bare address) of an address like `Name <user@example.com>`; ValueError
    when it is not one address SMTP can carry. Internationalised domains become punycode."""
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{what} {value!r} contains a line break")
    if len(getaddresses([value])) != 1:
        raise ValueError(f"{what} {value!r} is not exactly one email address")
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() for ch in address):
        raise ValueError(f"{what} {value!r} is not an email address")
    if not local.isascii():
        raise ValueError(f"{what} {value!r} has a non-ASCII local part (SMTPUTF8 is not supported)")
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise ValueError(f"{what} {value!r} has an invalid domain") from None
    address = f"{local}@{domain}"
    return formataddr((name, address), charset="utf-8"), address


def text_header(name: str, value: str) -> str:
    """`Name: value`, RFC 2047-encoded when not ASCII, folded when long."""
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{name} contains a line break")
    if value.isascii() and len(name) + 2 + len(value) <= 78:
        return f"{name}: {value}"
    encoded = Header(value, "utf-8" if not value.isascii() else "us-ascii", header_name=name).encode(linesep="\r\n")
    return f"{name}: {encoded}"


def calendar_method(ics: str) -> str:
    """The iTIP METHOD of a calendar file (REQUEST, CANCEL, ...); PUBLISH when it has none."""
    found = _METHOD.search(ics)
    return found.group(1).upper() if found else "PUBLISH"


def _text_part(text: str) -> tuple[str, bytes]:
    """(Content-Transfer-Encoding, encoded body with LF line ends) of some text."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    if text.isascii() and all(len(line) <= MAX_LINE for line in text.split("\n")):
        return "7bit", text.encode("ascii")
    return "quoted-printable", binascii.b2a_qp(text.encode("utf-8"), istext=True)


def build(
    *,
    mail_from: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    ics: str | None = None,
    reply_to: str | None = None,
    date: dt.datetime,
) -> Envelope:
    """The email of one outbox row; ValueError when a header or address cannot be written."""
    from_header, sender = mailbox(mail_from, "sender")
    to_header, recipient = mailbox(to, "recipient")
    message_id = message_id.strip()
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    if not _MESSAGE_ID.match(message_id):
        raise ValueError(f"Message-ID {message_id!r} is not of the form <id@domain>")
    headers = [f"From: {from_header}", f"To: {to_header}"]
    if reply_to:
        headers.append(f"Reply-To: {mailbox(reply_to, 'reply-to address')[0]}")
    headers += [
        text_header("Subject", subject),
        f"Date: {format_datetime(date)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Auto-Submitted: auto-generated",
    ]
    encoding, text = _text_part(body)
    plain = f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: {encoding}\n".encode()
    if ics is None:
        data = "\n".join(headers).encode() + b"\n" + plain + b"\n" + text
    else:
        calendar_encoding, calendar = _text_part(ics)
        boundary = f"=_agendum_{uuid.uuid4().hex}"
        parts = [
            plain + b"\n" + text,
            (
                f"Content-Type: text/calendar; method={calendar_method(ics)}; charset=utf-8\n"
                f"Content-Transfer-Encoding: {calendar_encoding}\n"
                'Content-Disposition: attachment; filename="invite.ics"\n\n'
            ).encode()
            + calendar,
        ]
        headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        separator = f"--{boundary}\n".encode()
        data = (
            "\n".join(headers).encode()
            + b"\n\nThis is a multipart message in MIME format.\n\n"
            + b"".join(separator + part + b"\n" for part in parts)
            + f"--{boundary}--\n".encode()
        )
    return Envelope(sender, recipient, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
