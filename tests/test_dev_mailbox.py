"""The dev mailbox of demo mode: an in-process SMTP sink the worker delivers to, listed at
/dev/mailbox (newest first, links clickable, everything else escaped, the .ics downloadable) —
and nowhere else: 404 outside demo mode, and when a real SMTP server is configured."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from browser import PHONE, browser, phone, screenshot  # noqa: F401 - fixtures
from conftest import free_socket

from core.email.delivery import DeliveryConfig
from core.models import Location, OutboxMessage, RecipientRole
from web.linkify import linkify

AGENDUM = Path(sys.executable).with_name("agendum")
FAST = DeliveryConfig(poll_interval=0.05, lanes=1)
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Check-up\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


async def test_no_dev_mailbox_outside_demo_mode(api):
    for path in ("/dev/mailbox", "/dev/mailbox/1/invite.ics"):
        assert (await api.client.get(path)).status_code == 404


async def test_no_dev_mailbox_in_demo_mode_with_a_real_smtp_server(api_factory):
    api = await api_factory(demo=True, smtp_url="smtp://127.0.0.1:9?timeout=1", run_worker=False)
    assert (await api.client.get("/dev/mailbox")).status_code == 404


async def _queue(subject: str, body: str, ics: str | None = None, to: str = "ada@example.com") -> OutboxMessage:
    location = await Location.first() or await Location.create(name="Clinic", timezone="UTC", currency="EUR")
    return await OutboxMessage.create(
        location=location,
        event="APPOINTMENT_BOOKED",
        role=RecipientRole.CUSTOMER,
        to_address=to,
        subject=subject,
        body=body,
        ics=ics,
        message_id=f"<{uuid.uuid4().hex}@agendum.test>",
        send_after=dt.datetime.now(dt.UTC),
    )


async def _page_when(api, text: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = await api.client.get("/dev/mailbox")
        assert page.status_code == 200
        if text in page.text:
            return page.text
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not on the dev mailbox page within {timeout}s:\n{page.text}")
        await asyncio.sleep(0.05)


async def test_demo_mode_lists_delivered_messages_newest_first_with_clickable_links(api_factory):
    api = await api_factory(demo=True, delivery=FAST)
    empty = await api.client.get("/dev/mailbox")
    assert empty.status_code == 200 and "No messages yet" in empty.text
    assert empty.headers["content-type"].startswith("text/html")
    assert 'name="viewport"' in empty.text

    first = await _queue(
        "First <b>booking</b>",
        "Hello Ada,\nconfirm at https://agendum.test/a/tok?x=1&y=2.\n"
        "Not a link: javascript:alert(1) <script>alert(1)</script>",
        ics=ICS,
    )
    api.app.wake_workers()
    await _page_when(api, first.message_id.strip("<>"))
    second = await _queue("Second", "Another one: (https://agendum.test/b/other)")
    api.app.wake_workers()
    html = await _page_when(api, second.message_id.strip("<>"))

    assert html.index("Second") < html.index("First &lt;b&gt;booking&lt;/b&gt;")  # newest first
    assert "<b>booking</b>" not in html and "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    links = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer" target="_blank">', html)
    assert links == ["https://agendum.test/b/other", "https://agendum.test/a/tok?x=1&amp;y=2"]
    assert "ada@example.com" in html and "Agendum &lt;no-reply@agendum.local&gt;" in html

    number = re.search(r'href="/dev/mailbox/(\d+)/invite.ics"', html).group(1)
    invite = await api.client.get(f"/dev/mailbox/{number}/invite.ics")
    assert invite.status_code == 200
    assert invite.headers["content-type"].startswith("text/calendar")
    assert invite.headers["content-disposition"] == 'attachment; filename="invite.ics"'
    assert invite.text == ICS
    assert "METHOD:REQUEST" in html  # shown inline too
    assert (await api.client.get("/dev/mailbox/999/invite.ics")).status_code == 404


async def test_the_mailbox_page_fits_a_phone_and_its_links_work(api_factory, phone, screenshot):  # noqa: F811
    api = await api_factory(demo=True, delivery=FAST)
    target = f"{api.url}/healthz"
    await _queue(
        "Your appointment on Tuesday 24 November at 10:30 with Dr Ada Patel",
        "Dear Ada,\n\nyour appointment is booked. To confirm, reschedule or cancel it, open\n"
        f"{target}?token=3q2-7lqW0u8oHk1mJd0bT9rKXyZ4fG6hN2pQwErTyU3q2-7lqW0u8oHk1mJd0bT9rKXyZ4fG6hN2pQwErTyU\n\n"
        "See you soon,\nRiverside Clinic",
        ics=ICS,
        to="a-rather-long-address.for-a-phone@example.com",
    )
    api.app.wake_workers()
    await _page_when(api, "Riverside Clinic")
    response = await phone.goto(f"{api.url}/dev/mailbox")
    assert response.status == 200
    await screenshot(phone, "dev-mailbox")
    assert await phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert await phone.inner_text("h1") == "Dev mailbox"
    link = phone.locator(".body a")
    assert await link.count() == 1
    href = await link.get_attribute("href")
    assert href.startswith(target)
    landed = await phone.goto(href)  # following it (target=_blank opens a tab; here: same tab)
    assert landed.status == 200 and (await landed.json()) == {"status": "ok"}


def test_linkify_escapes_everything_and_links_only_http_urls():
    html = str(linkify('a <i>&</i> https://x.example/p?q="1"&r=<2> b, http://y.example/(z). ftp://no javascript:no'))
    assert html == (
        'a &lt;i&gt;&amp;&lt;/i&gt; <a href="https://x.example/p?q=" rel="noopener noreferrer" target="_blank">'
        "https://x.example/p?q=</a>&#34;1&#34;&amp;r=&lt;2&gt; b, "
        '<a href="http://y.example/(z)" rel="noopener noreferrer" target="_blank">http://y.example/(z)</a>. ftp://no javascript:no'
    )


def test_serve_demo_delivers_a_booking_email_to_the_dev_mailbox(tmp_path):
    """A newcomer's path: `agendum serve --demo`, book through GraphQL, read the email."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENDUM_") and k != "PYTHONUNBUFFERED"}
    env["AGENDUM_DATABASE_URL"] = f"sqlite://{tmp_path / 'agendum.sqlite3'}"
    with free_socket() as sock:
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    out = tmp_path / "serve.out"
    with out.open("w") as stdout, (tmp_path / "serve.err").open("w") as stderr:
        process = subprocess.Popen(
            [str(AGENDUM), "serve", "--demo", "--port", str(port)], cwd=tmp_path, env=env, stdout=stdout, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 60
        while "Dev mailbox" not in out.read_text() or not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"agendum serve --demo did not start:\n{out.read_text()}\n{(tmp_path / 'serve.err').read_text()}"
                )
            time.sleep(0.1)
        printed = out.read_text()
        assert f"Dev mailbox (the emails the demo sends): {url}/dev/mailbox" in printed
        token = re.search(r"Staff token \(owner demo@agendum\.local\): (\S+)", printed).group(1)
        gql = lambda query, variables=None: _graphql(url, token, query, variables)  # noqa: E731
        location = gql(
            "{ locations { ... on LocationConnection { edges { node { id calendars { id } services { id name } } } } } }"
        )
        node = location["locations"]["edges"][0]["node"]
        customers = gql(
            "query($l: ID!) { customers(locationId: $l) { ... on CustomerConnection { edges { node { id email } } } } }",
            {"l": node["id"]},
        )
        customer = customers["customers"]["edges"][0]["node"]
        service = next(s for s in node["services"] if s["name"] == "Consultation")
        start = dt.datetime.now(dt.UTC)
        slots = gql(
            "query($c: ID!, $s: ID!, $f: DateTime!, $t: DateTime!) { availableSlots(calendarId: $c, serviceId: $s, from: $f, to: $t) { ... on SlotList { slots { start } } } }",
            {
                "c": node["calendars"][0]["id"],
                "s": service["id"],
                "f": (start + dt.timedelta(days=1)).isoformat(),
                "t": (start + dt.timedelta(days=14)).isoformat(),
            },
        )
        booked = gql(
            "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { __typename } }",
            {
                "c": node["calendars"][0]["id"],
                "s": service["id"],
                "u": customer["id"],
                "t": slots["availableSlots"]["slots"][0]["start"],
            },
        )
        assert booked["bookAppointment"]["__typename"] == "Appointment", booked
        deadline = time.monotonic() + 20
        while True:
            page = httpx.get(f"{url}/dev/mailbox", timeout=10)
            assert page.status_code == 200
            if customer["email"] in page.text:
                break
            assert time.monotonic() < deadline, page.text
            time.sleep(0.1)
        assert "invite.ics" in page.text
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    assert "Traceback" not in (tmp_path / "serve.err").read_text()


def _healthy(url: str) -> bool:
    with contextlib.suppress(httpx.TransportError):
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    return False


def _graphql(url: str, token: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]
