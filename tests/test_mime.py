"""core/email/mime.py writes emails by hand (the stdlib's EmailMessage is too slow to deliver hundreds
per second): whatever the subject, body, names and calendar file, the stdlib must read back
exactly what went in, from 7-bit clean bytes with CRLF line ends and no line over 998 octets."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.utils import formataddr

import pytest
from hypothesis import given, settings, strategies as st

from core.email.mime import build, calendar_method

NOW = dt.datetime(2026, 11, 21, 10, 30, tzinfo=dt.UTC)
# Any text without control characters other than line breaks and tabs (what templates produce).
line = st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"), max_size=200)
text = st.lists(line, max_size=12).map("\n".join)
one_line = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=300)
name = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60)


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def check_wire_format(data: bytes) -> None:
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


@settings(max_examples=300, deadline=None)
@given(subject=one_line, body=text, display=name, ics=st.none() | text)
def test_what_goes_in_comes_back_out(subject, body, display, ics):
    if ics is not None:
        ics = "BEGIN:VCALENDAR\nMETHOD:REQUEST\n" + ics + "\nEND:VCALENDAR\n"
    envelope = build(
        mail_from="Agendum <no-reply@agendum.test>",
        to=formataddr((display, "ada@example.com")),
        subject=subject,
        body=body,
        message_id="<id-1@agendum.test>",
        ics=ics,
        date=NOW,
    )
    check_wire_format(envelope.data)
    message = parse(envelope.data)
    assert not message.defects
    assert message["Subject"] == " ".join(subject.split()) or message["Subject"] == subject
    assert message["To"].addresses[0].addr_spec == "ada@example.com"
    assert " ".join(message["To"].addresses[0].display_name.split()) == " ".join(display.split())
    assert message["Message-ID"] == "<id-1@agendum.test>"
    plain = message.get_body(preferencelist=("plain",))
    expected = body.replace("\r\n", "\n") + ("" if body.endswith("\n") else "\n")
    assert plain.get_content().replace("\r\n", "\n") == expected
    attachments = list(message.iter_attachments())
    if ics is None:
        assert attachments == [] and message.get_content_type() == "text/plain"
    else:
        [invite] = attachments
        assert invite.get_filename() == "invite.ics" and invite.get_param("method") == "REQUEST"
        assert invite.get_content().replace("\r\n", "\n") == ics


def test_envelope_addresses_and_international_domains():
    envelope = build(
        mail_from="Clinic Zürich <no-reply@agendum.test>",
        to="Zoë <zoe@bücher.example>",
        subject="Hi",
        body="Hi",
        message_id="abc@agendum.test",
        date=NOW,
        reply_to="Desk <desk@clinic.example>",
    )
    assert (envelope.sender, envelope.recipient) == ("no-reply@agendum.test", "zoe@xn--bcher-kva.example")
    message = parse(envelope.data)
    assert message["From"] == "Clinic Zürich <no-reply@agendum.test>"
    assert message["Reply-To"] == "Desk <desk@clinic.example>"
    assert message["Message-ID"] == "<abc@agendum.test>"  # brackets added
    assert message["Date"].datetime == NOW


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("to", "ada@example.com\r\nBcc: all@example.com", "contains a line break"),
        ("to", "not an address", "is not an email address"),
        ("to", "a@example.com, b@example.com", "is not exactly one email address"),
        ("to", "zoë@example.com", "non-ASCII local part"),
        ("subject", "Hi\nBcc: all@example.com", "Subject contains a line break"),
        ("message_id", "<two words@x>", "is not of the form <id@domain>"),
        ("mail_from", "Agendum", "is not an email address"),
    ],
)
def test_what_cannot_be_written_is_refused(field, value, problem):
    fields = {"mail_from": "a@agendum.test", "to": "b@example.com", "subject": "s", "body": "b", "message_id": "<m@x>"}
    with pytest.raises(ValueError, match=problem):
        build(**{**fields, field: value}, date=NOW)


def test_calendar_method():
    assert calendar_method("BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR") == "CANCEL"
    assert calendar_method("BEGIN:VCALENDAR\nmethod:request\n") == "PUBLISH"  # property names are upper case
    assert calendar_method("BEGIN:VCALENDAR\r\nEND:VCALENDAR") == "PUBLISH"
