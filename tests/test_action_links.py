"""Action links end to end: emails through a real SMTP server, the page and its POSTs, GraphQL,
gating, expiry, rules, concurrency and guessing."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets

from helpers import book, later_today, local, make_clinic, midday_timezone

from core import clock
from core.models import Appointment, AppointmentEvent, OutboxMessage, PluginActivation
from core.settings import RateLimit
from plugins.action_links.links import token_for

LINK_RE = re.compile(r"http://testserver/action/([A-Za-z0-9_-]{43})")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
VIEW = """query($t: String!) { actionLink(token: $t) { __typename
  ... on ActionLinkView { appointmentStatus startsAt sequence canConfirm canReschedule canCancel confirmRefusal cancelRefusal rescheduleRefusal
    cancellationReasons serviceName calendarName locationName history { action } }
  ... on LinkUnavailable { status message ownerName ownerPhone } ... on NotFound { message } ... on RateLimited { retryAfterSeconds } } }"""
CHANGE_FIELDS = """__typename ... on ActionLinkView { appointmentStatus startsAt sequence } ... on RuleViolation { rule message }
  ... on StaleAppointment { currentSequence } ... on NotFound { message } ... on LinkUnavailable { status }
  ... on InvalidTransition { message } ... on ValidationError { field message } ... on SlotUnavailable { message }"""


async def enable(api, clinic, tier="SILVER"):
    await api.data(
        "mutation($l: ID!, $t: Tier!) { updateLocation(id: $l, input: {tier: $t}) { __typename } }",
        {"l": clinic.location, "t": tier},
    )
    result = await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    assert result["setPluginEnabled"]["__typename"] == "PluginStateList", result


async def link_of(api, appointment_id: str) -> str:
    """The appointment's link token, as its emails carry it (the stored bodies keep only a reference)."""
    return await token_for(api.settings, await Appointment.get(id=int(appointment_id)))


def text_of(mail) -> str:
    return mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def csrf(page_text: str) -> str:
    return CSRF_RE.search(page_text).group(1)


async def test_end_to_end_through_a_real_smtp_server(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic = await make_clinic(
        api, rules={"cancellationReasons": ["Feeling better", "Clash"], "cancellationReasonRequired": True}
    )
    await enable(api, clinic)
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    await smtp.wait_for(1)
    mail = smtp.received[0]
    text = mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Click here to view, confirm, reschedule, or cancel your appointment\nhttp://testserver/action/" in text
    token = LINK_RE.search(text).group(1)
    page = await api.client.get(f"/action/{token}")
    assert page.status_code == 200 and "Checkup" in page.text and "Dr Who" in page.text and "Scheduled" in page.text
    confirmed = await api.client.post(f"/action/{token}/confirm", data={"csrf_token": csrf(page.text)})
    assert confirmed.status_code == 303 and confirmed.headers["location"] == f"/action/{token}?done=confirmed"
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "CONFIRMED"
    await smtp.wait_for(2)
    assert token in smtp.received[1].message.get_body(("plain",)).get_content()
    # Reschedule by picking a slot on the slots page.
    slots = await api.client.get(
        f"/action/{token}/reschedule", params={"day": local(clinic.tz, 6, 0).date().isoformat()}
    )
    assert slots.status_code == 200
    starts = re.findall(r'name="start" value="([^"]+)"', slots.text)
    target = next(s for s in starts if dt.datetime.fromisoformat(s) > local(clinic.tz, 6, 9))
    moved = await api.client.post(
        f"/action/{token}/reschedule", data={"csrf_token": csrf(slots.text), "start": target, "sequence": "0"}
    )
    assert moved.status_code == 303
    row = await Appointment.get(id=int(booked["id"]))
    assert (row.starts_at, row.sequence, row.status.value) == (dt.datetime.fromisoformat(target), 1, "CONFIRMED")
    await smtp.wait_for(3)
    rescheduled = smtp.received[2].message.get_body(("plain",)).get_content()
    assert "has moved" in rescheduled and token in rescheduled  # the link survives the reschedule
    # Cancel: a reason is required here.
    page = await api.client.get(f"/action/{token}")
    refused = await api.client.post(f"/action/{token}/cancel", data={"csrf_token": csrf(page.text), "note": "x"})
    assert refused.status_code == 409 and "choose a reason" in refused.text
    cancelled = await api.client.post(
        f"/action/{token}/cancel", data={"csrf_token": csrf(page.text), "reason": "Clash", "note": "Work trip"}
    )
    assert cancelled.status_code == 303
    row = await Appointment.get(id=int(booked["id"]))
    assert (row.status.value, row.cancellation_reason, row.cancellation_note) == ("CANCELLED", "Clash", "Work trip")
    await smtp.wait_for(4)
    assert "cancelled" in smtp.received[3].message["Subject"]
    # Every action is refused now: the block no longer offers them, only what the page still shows.
    cancelled_text = smtp.received[3].message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "confirm, reschedule, or cancel" not in cancelled_text
    assert f"View the details of your appointment\nhttp://testserver/action/{token}\n" in cancelled_text
    history = await AppointmentEvent.filter(appointment_id=row.id).order_by("id")
    assert [(e.action, e.actor_kind.value) for e in history] == [
        ("BOOKED", "STAFF"),
        ("CONFIRMED", "CUSTOMER_LINK"),
        ("RESCHEDULED", "CUSTOMER_LINK"),
        ("CANCELLED", "CUSTOMER_LINK"),
    ]
    assert history[1].ip == "127.0.0.1" and history[1].user_agent.startswith("python-httpx")
    page = await api.client.get(f"/action/{token}")
    assert "Cancelled" in page.text and "Changes made through this link" in page.text


async def test_graphql_flow_and_the_block_placeholder(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic = await make_clinic(api)
    await enable(api, clinic)
    save = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename ... on ValidationError { message } } }"
    saved = await api.data(
        save,
        {
            "i": {
                "locationId": clinic.location,
                "name": "Booked",
                "event": "APPOINTMENT_BOOKED",
                "role": "CUSTOMER",
                "subject": "Booked",
                "body": "Hello!\n\n{ActionLinkBlock}\nBye.",
            }
        },
    )
    assert saved["saveEmailTemplate"]["__typename"] == "EmailTemplate"
    staff_block = await api.data(
        save,
        {
            "i": {
                "locationId": clinic.location,
                "name": "Staff",
                "event": "APPOINTMENT_BOOKED",
                "role": "STAFF",
                "subject": "x",
                "body": "{ActionLinkBlock}",
            }
        },
    )
    assert staff_block["saveEmailTemplate"]["__typename"] == "ValidationError"
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    message = await OutboxMessage.get(appointment_id=int(booked["id"]), role="CUSTOMER")
    assert (
        message.body.count("{{secret:") == 1 and "/action/" not in message.body
    )  # a reference, placed where the template says
    await smtp.wait_for(1)
    sent = text_of(smtp.received[0])
    assert re.search(
        r"^Hello!\n\nClick here to view, confirm, reschedule, or cancel your appointment\nhttp://testserver/action/\S+\n\nBye\.",
        sent,
    ), sent
    token = LINK_RE.search(sent).group(1)
    assert token == await link_of(api, booked["id"])
    view = (await api.data(VIEW, {"t": token}, token=None))["actionLink"]
    assert (view["appointmentStatus"], view["canConfirm"], view["canCancel"], view["serviceName"]) == (
        "SCHEDULED",
        True,
        True,
        "Checkup",
    )
    confirm = f"mutation($t: String!) {{ confirmViaActionLink(token: $t) {{ {CHANGE_FIELDS} }} }}"
    assert (await api.data(confirm, {"t": token}, token=None))["confirmViaActionLink"][
        "appointmentStatus"
    ] == "CONFIRMED"
    again = (await api.data(confirm, {"t": token}, token=None))["confirmViaActionLink"]
    assert again["appointmentStatus"] == "CONFIRMED"
    view = (await api.data(VIEW, {"t": token}, token=None))["actionLink"]
    assert not view["canConfirm"] and "already confirmed" in view["confirmRefusal"]
    slots = await api.data(
        "query($t: String!) { actionLink(token: $t) { ... on ActionLinkView { rescheduleSlots { start } } } }",
        {"t": token},
        token=None,
    )
    target = slots["actionLink"]["rescheduleSlots"][3]["start"]
    moved = (
        await api.data(
            f"mutation($t: String!, $s: DateTime!) {{ rescheduleViaActionLink(token: $t, start: $s, expectedSequence: 0) {{ {CHANGE_FIELDS} }} }}",
            {"t": token, "s": target},
            token=None,
        )
    )["rescheduleViaActionLink"]
    assert (moved["appointmentStatus"], moved["sequence"]) == ("CONFIRMED", 1)
    stale = (
        await api.data(
            f"mutation($t: String!, $s: DateTime!) {{ rescheduleViaActionLink(token: $t, start: $s, expectedSequence: 0) {{ {CHANGE_FIELDS} }} }}",
            {"t": token, "s": slots["actionLink"]["rescheduleSlots"][5]["start"]},
            token=None,
        )
    )["rescheduleViaActionLink"]
    assert stale == {"__typename": "StaleAppointment", "currentSequence": 1}
    cancelled = (
        await api.data(
            f'mutation($t: String!) {{ cancelViaActionLink(token: $t, note: "bye") {{ {CHANGE_FIELDS} }} }}',
            {"t": token},
            token=None,
        )
    )["cancelViaActionLink"]
    assert cancelled["appointmentStatus"] == "CANCELLED"
    links = await api.data(
        "query($id: ID!) { appointment(id: $id) { ... on Appointment { links { kind url } } } }", {"id": booked["id"]}
    )
    assert links["appointment"]["links"] == []  # staff never see the customer's link


async def test_disabled_unknown_and_replaced_links_answer_the_same_404(api):
    clinic = await make_clinic(api)
    await enable(api, clinic)
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    token = await link_of(api, booked["id"])
    assert (await api.client.get(f"/action/{token}")).status_code == 200
    revoked = await api.data(
        "mutation($a: ID!) { revokeActionLink(appointmentId: $a) { __typename ... on ActionLinkRevoked { appointmentId } } }",
        {"a": booked["id"]},
    )
    assert revoked["revokeActionLink"] == {"__typename": "ActionLinkRevoked", "appointmentId": booked["id"]}
    new_token = await link_of(api, booked["id"])
    assert new_token != token
    replaced = await api.client.get(f"/action/{token}")
    unknown = await api.client.get(f"/action/{secrets.token_urlsafe(32)}")
    garbage = await api.client.get("/action/not-a-token")
    assert (await api.client.get(f"/action/{new_token}")).status_code == 200
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: false) { __typename } }',
        {"l": clinic.location},
    )
    disabled = await api.client.get(f"/action/{new_token}")
    assert {r.status_code for r in (replaced, unknown, garbage, disabled)} == {404}
    without_nonce = lambda r: re.sub(r'nonce="[^"]+"', "", r.text)  # noqa: E731
    assert without_nonce(replaced) == without_nonce(unknown) == without_nonce(garbage) == without_nonce(disabled)
    assert "Checkup" not in disabled.text and "Clinic" not in disabled.text
    for t in (token, new_token):
        assert (await api.data(VIEW, {"t": t}, token=None))["actionLink"]["__typename"] == "NotFound"
    gated = await api.data(
        "mutation($a: ID!) { revokeActionLink(appointmentId: $a) { __typename } }", {"a": booked["id"]}
    )
    assert gated["revokeActionLink"]["__typename"] == "PluginDisabled"
    # Enabling again revives the current link.
    await enable(api, clinic)
    assert (await api.client.get(f"/action/{new_token}")).status_code == 200


async def test_expired_link_answers_410_with_the_contact(api):
    clinic = await make_clinic(api)
    await enable(api, clinic)
    await api.data(
        'mutation($l: ID!) { updatePluginSettings(locationId: $l, plugin: "action_links", settings: {validHoursAfterEnd: 1}) { __typename } }',
        {"l": clinic.location},
    )
    past = await book(api, clinic, local(clinic.tz, -1, 10), override=True)
    token = await link_of(api, past["id"])
    page = await api.client.get(f"/action/{token}")
    assert page.status_code == 410 and "expired" in page.text and "+44 20 7946 0000" in page.text
    view = (await api.data(VIEW, {"t": token}, token=None))["actionLink"]
    assert (view["__typename"], view["status"], view["ownerPhone"]) == (
        "LinkUnavailable",
        "EXPIRED",
        "+44 20 7946 0000",
    )


async def test_reschedule_slots_from_far_ahead_are_none_not_an_error(api):
    clinic = await make_clinic(api, rules={"maxAdvanceDays": 30})
    await enable(api, clinic)
    token = await link_of(api, (await book(api, clinic, local(clinic.tz, 3, 10)))["id"])
    query = "query($t: String!, $f: DateTime) { actionLink(token: $t) { ... on ActionLinkView { rescheduleSlots(from: $f) { start } } } }"
    near = await api.data(query, {"t": token, "f": local(clinic.tz, 29, 0).isoformat()}, token=None)
    assert near["actionLink"]["rescheduleSlots"]  # the last bookable days
    for far in ("9999-12-31T00:00:00+00:00", "2200-12-31T00:00:00+00:00", local(clinic.tz, 32, 0).isoformat()):
        assert await api.data(query, {"t": token, "f": far}, token=None) == {"actionLink": {"rescheduleSlots": []}}, far
    past = await api.data(query, {"t": token, "f": "0001-01-01T00:00:00-12:00"}, token=None)
    assert past["actionLink"]["rescheduleSlots"]  # from now


async def test_same_day_rule_refuses_confirm_with_its_message(api):
    clinic = await make_clinic(api, timezone=midday_timezone(), rules={"sameDayChangesAllowed": False})
    await enable(api, clinic)
    booked = await book(api, clinic, later_today(clinic.tz, hours=3))
    token = await link_of(api, booked["id"])
    view = (await api.data(VIEW, {"t": token}, token=None))["actionLink"]
    assert (
        not view["canConfirm"]
        and "Changes on the day" in view["confirmRefusal"]
        and "+44 20 7946 0000" in view["confirmRefusal"]
    )
    page = await api.client.get(f"/action/{token}")
    assert "Changes on the day of the appointment are not possible online" in page.text and "/confirm" not in page.text
    forced = await api.client.post(
        f"/action/{token}/confirm",
        data={"csrf_token": csrf((await api.client.get(f"/action/{token}/reschedule")).text)},
    )
    assert forced.status_code == 409 and "Changes on the day" in forced.text
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "SCHEDULED"


async def test_gets_heads_and_posts_without_csrf_change_nothing(api):
    clinic = await make_clinic(api)
    await enable(api, clinic)
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    token = await link_of(api, booked["id"])
    before = await Appointment.get(id=int(booked["id"]))
    form = {"csrf_token": "x", "start": local(clinic.tz, 6, 10).isoformat(), "sequence": "0", "reason": "", "note": "n"}
    for path in ("", "/confirm", "/reschedule", "/cancel"):
        for method in ("GET", "HEAD"):
            for params in ({}, form):
                response = await api.client.request(method, f"/action/{token}{path}", params=params)
                assert response.status_code in (200, 405), (method, path, response.status_code)
        refused = await api.client.post(f"/action/{token}{path}", data=form)
        assert refused.status_code in (403, 405)
        no_token = await api.client.post(
            f"/action/{token}{path}", data={k: v for k, v in form.items() if k != "csrf_token"}
        )
        assert no_token.status_code in (403, 405)
    other = await book(api, clinic, local(clinic.tz, 7, 10))
    other_token = await link_of(api, other["id"])
    borrowed = csrf((await api.client.get(f"/action/{other_token}")).text)
    assert (await api.client.post(f"/action/{token}/confirm", data={"csrf_token": borrowed})).status_code == 403
    after = await Appointment.get(id=int(booked["id"]))
    assert (after.status, after.starts_at, after.sequence) == (before.status, before.starts_at, before.sequence)
    assert await AppointmentEvent.filter(appointment_id=after.id).count() == 1


async def test_two_pages_rescheduling_at_once_one_wins(api):
    clinic = await make_clinic(api)
    await enable(api, clinic)
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    token = await link_of(api, booked["id"])
    page = (await api.client.get(f"/action/{token}/reschedule")).text
    token_field = csrf(page)
    first, second = local(clinic.tz, 6, 11).isoformat(), local(clinic.tz, 6, 14).isoformat()
    answers = await asyncio.gather(
        *(
            api.client.post(
                f"/action/{token}/reschedule", data={"csrf_token": token_field, "start": start, "sequence": "0"}
            )
            for start in (first, second)
        )
    )
    assert sorted(r.status_code for r in answers) == [303, 409]
    loser = next(r for r in answers if r.status_code == 409)
    assert "changed meanwhile" in loser.text
    row = await Appointment.get(id=int(booked["id"]))
    assert row.sequence == 1 and row.starts_at.isoformat() in {
        dt.datetime.fromisoformat(first).astimezone(dt.UTC).isoformat(),
        dt.datetime.fromisoformat(second).astimezone(dt.UTC).isoformat(),
    }


async def test_guessing_tokens_finds_nothing_and_the_limit_engages(api_factory):
    api = await api_factory(link_limit_per_ip=RateLimit(200, 3600), link_limit_per_token=RateLimit(5, 3600))
    clinic = await make_clinic(api)
    await enable(api, clinic)
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    real = await link_of(api, booked["id"])
    statuses = []
    for _ in range(250):
        statuses.append((await api.client.get(f"/action/{secrets.token_urlsafe(32)}")).status_code)
    assert set(statuses) <= {404, 429} and statuses.count(404) == 200 and statuses[-1] == 429
    # GraphQL, with aliases: every aliased attempt counts; none resolves.
    aliases = " ".join(f'a{i}: actionLink(token: "{secrets.token_urlsafe(32)}") {{ __typename }}' for i in range(10))
    seen = set()
    for _ in range(1000):
        body = await api.gql("{ " + aliases + " }", token=None)
        seen |= {v["__typename"] for v in body["data"].values()}
    assert seen == {"RateLimited"}
    # The real link is refused too from this address now (the limit is per client), but works elsewhere.
    assert (await api.client.get(f"/action/{real}")).status_code == 429
    other = await api.client.get(f"/action/{real}", headers={"X-Forwarded-For": "198.51.100.7"})
    assert other.status_code == 429  # forwarded addresses are not trusted without AGENDUM_TRUSTED_PROXIES
    assert await PluginActivation.filter(plugin="action_links", enabled=True).count() == 1


# 2027-10-31 in London: the clocks go back at 02:00 BST, so 01:00 happens twice.
FIRST_ONE_AM = dt.datetime(2027, 10, 31, 0, 0, tzinfo=dt.UTC)  # 01:00 BST
SECOND_ONE_AM = dt.datetime(2027, 10, 31, 1, 0, tzinfo=dt.UTC)  # 01:00 GMT


async def test_the_pages_name_the_zone_of_every_time(api, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2027, 10, 1, 12, tzinfo=dt.UTC))
    clinic = await make_clinic(api)  # Europe/London, English
    await enable(api, clinic)
    first, second = await book(api, clinic, FIRST_ONE_AM), await book(api, clinic, SECOND_ONE_AM)
    first_page = (await api.client.get(f"/action/{await link_of(api, first['id'])}")).text
    second_token = await link_of(api, second["id"])
    second_page = (await api.client.get(f"/action/{second_token}")).text
    assert "Sunday, October 31, 2027, 1:00\u202fAM – 1:30\u202fAM BST" in first_page and "GMT" not in first_page
    assert "Sunday, October 31, 2027, 1:00\u202fAM – 1:30\u202fAM GMT" in second_page and "BST" not in second_page
    # Moving the second: on the fall-back day both 01:30s are free, and each button names its zone.
    night = (
        await api.client.get(f"/action/{second_token}/reschedule", params={"from": "2027-10-31", "day": "2027-10-31"})
    ).text
    assert "Now: Sunday, October 31, 2027, 1:00\u202fAM GMT." in night
    assert "The clocks change on this day: each time names its zone (Europe/London time)." in night
    assert ">1:30\u202fAM BST</button>" in night and ">1:30\u202fAM GMT</button>" in night
    assert 'aria-label="Sunday, October 31, 2027, 1:30\u202fAM BST"' in night
    # On an ordinary day the zone is named once, above bare times.
    day = (
        await api.client.get(f"/action/{second_token}/reschedule", params={"from": "2027-10-31", "day": "2027-11-01"})
    ).text
    assert "<h2>Monday, November 1</h2>" in day and "Times are in GMT (Europe/London time)." in day
    assert ">10:00\u202fAM</button>" in day and 'aria-label="Monday, November 1, 2027, 10:00\u202fAM GMT"' in day
