"""Staff never read a customer's secrets, and the outbox keeps none in clear (issue 13, item 3),
on SQLite and PostgreSQL, with the links read from what a real SMTP server received:

- a manager sees no action link anywhere (links, deliveries, previews, revoke) and has it emailed
  to the customer with `sendActionLink` instead (limited per appointment);
- a password reset anyone asks for is read by its customer only: its delivery shows staff the
  link masked, a resend carries the same link;
- no token that was emailed is in the outbox table, in any body or subject;
- a 4xx retry and an at-least-once duplicate carry the same links with the same Message-ID;
- a link sealed under a key no longer held fails its email visibly, and sends once the key is a fallback again;
- upgrading seals the links that emails stored before held in clear.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re

from conftest import TEST_PLUGINS, TEST_SECRET
from helpers import book, local
from portal_helpers import PASSWORD, Customer, portal_clinic
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from app import orm_config
from core import sql
from core.db import run_migrations
from core.email.delivery import DeliveryConfig
from core.email.secrets import MARKER, MASK, PURPOSE
from core.models import DeliveryStatus, Location, OutboxMessage, RecipientRole, StaffUser
from core.security.accounts import issue_token
from core.security.sealed import unseal
from core.security.tokens import new_token
from core.settings import Settings

OLD_KEY = "0dRk3v5Qd2R2nqf4iVY_1zJxq0XyWn9ZtB7cLmP8sKjH4eGuA6oT3wYbN5vF1aDr"
NEW_KEY = "pQ7xV2mL9kR4tW8zN1cB6yH3jF5gD0sA_eUiOoTqYrXwEvCbMnZlKaJhGfSdPuIy"
# Quick retries: a refused message goes again within a fraction of a second.
QUICK = DeliveryConfig(lanes=2, batch_size=10, poll_interval=0.05, retry_base=0.05, retry_cap=0.2)
SECRET_LINK = re.compile(
    r"https?://\S+?/(?:action|portal/[a-z0-9-]+/(?:verify|password|from-link))/([A-Za-z0-9_.-]{20,})"
)
ACTION_LINK = re.compile(r"http://testserver/action/([A-Za-z0-9_-]{43})")
ASK_RESET = "mutation($s: String!, $e: String!) { portalRequestPasswordReset(slug: $s, email: $e) { __typename } }"
RESET = "mutation($t: String!, $p: String!) { portalResetPassword(token: $t, password: $p) { __typename } }"
REVOKE = "mutation($a: ID!) { revokeActionLink(appointmentId: $a) { __typename ... on ActionLinkRevoked { appointmentId } } }"
SEND = """mutation($a: ID!) { sendActionLink(appointmentId: $a) { __typename
  ... on ActionLinkSent { delivery { id to event status subject body } } ... on RateLimited { message retryAfterSeconds }
  ... on ValidationError { field message } } }"""
RESEND = "mutation($d: ID!) { resendEmail(deliveryId: $d) { __typename ... on EmailDelivery { id messageId body } } }"
STAFF_VIEW = """query($l: ID!, $a: ID!) {
  appointment(id: $a) { ... on Appointment { links { kind label url } } }
  appointments(locationId: $l) { ... on AppointmentConnection { edges { node { links { url } } } } }
  emailDeliveries(locationId: $l, first: 100) { ... on EmailDeliveryConnection { edges { node { id event to subject body messageId } } } }
  booked: previewEmail(appointmentId: $a, templateId: "default:APPOINTMENT_BOOKED:CUSTOMER") { ... on EmailPreview { subject body } }
  linkEmail: previewEmail(appointmentId: $a, templateId: "default:APPOINTMENT_ACTION_LINK:CUSTOMER") { ... on EmailPreview { subject body } }
}"""


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


async def setup(api):
    """A clinic with the client portal and action links on, and a manager of it: (clinic, slug, the manager's token)."""
    clinic, slug = await portal_clinic(api)
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    created = await api.data(
        'mutation($l: ID!) { createStaffUser(input: {email: "manager@test.example", name: "Manager", '
        'password: "manager-password-1", role: MANAGER, locationIds: [$l]}) { ... on StaffUser { id } } }',
        {"l": clinic.location},
    )
    manager = (await issue_token(await StaffUser.get(id=int(created["createStaffUser"]["id"])), 24)).token
    return clinic, slug, manager


async def staff_view(api, token: str, clinic, appointment_id: str) -> dict:
    """Everything about the appointment and its emails that staff can read."""
    return await api.data(STAFF_VIEW, {"l": clinic.location, "a": appointment_id}, token=token)


async def stored_text() -> str:
    """Every subject and body in the outbox table, read with SQL."""
    rows = await sql.rows('SELECT subject, body FROM "outbox_message"', [])
    return "\n".join(f"{row['subject']}\n{row['body']}" for row in rows)


async def test_a_manager_never_sees_the_action_link_and_has_it_emailed_to_the_customer(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, _, manager = await setup(api)
    booked = await book(api, clinic, local(clinic.tz, 5, 10), token=manager)
    await smtp.settle()
    [mail] = smtp.received
    token = ACTION_LINK.search(text_of(mail.message)).group(1)
    assert (await api.client.get(f"/action/{token}")).status_code == 200  # the customer's link works
    seen = await staff_view(api, manager, clinic, booked["id"])
    shown = json.dumps(seen)
    assert token not in shown and "/action/" not in shown
    assert seen["appointment"]["links"] == [] and {str(e["node"]["links"]) for e in seen["appointments"]["edges"]} == {
        "[]"
    }
    [delivery] = seen["emailDeliveries"]["edges"]
    assert delivery["node"]["body"].endswith(
        f"Click here to view, confirm, reschedule, or cancel your appointment\n{MASK}\n"
    )
    assert MASK in seen["linkEmail"]["body"]

    # Replacing the link tells staff nothing of the new one; sending it emails the customer.
    assert (await api.data(REVOKE, {"a": booked["id"]}, token=manager))["revokeActionLink"] == {
        "__typename": "ActionLinkRevoked",
        "appointmentId": booked["id"],
    }
    assert (await api.client.get(f"/action/{token}")).status_code == 404
    sent = (await api.data(SEND, {"a": booked["id"]}, token=manager))["sendActionLink"]
    assert sent["__typename"] == "ActionLinkSent" and sent["delivery"]["to"] == "ada@example.com"
    assert sent["delivery"]["event"] == "APPOINTMENT_ACTION_LINK" and MASK in sent["delivery"]["body"]
    await smtp.settle()
    new_token = ACTION_LINK.search(text_of(smtp.received[1].message)).group(1)
    assert new_token != token and smtp.received[1].recipients == ["ada@example.com"]
    assert "here is the link to your appointment" in text_of(smtp.received[1].message)
    assert (await api.client.get(f"/action/{new_token}")).status_code == 200
    shown = json.dumps(await staff_view(api, manager, clinic, booked["id"]))
    assert new_token not in shown and "/action/" not in shown and "/from-link/" not in shown

    # At most five a hour per appointment; an expired link is not sent.
    answers = [(await api.data(SEND, {"a": booked["id"]}, token=manager))["sendActionLink"] for _ in range(5)]
    assert [answer["__typename"] for answer in answers] == ["ActionLinkSent"] * 4 + ["RateLimited"]
    assert answers[-1]["message"].startswith(
        "This appointment's link was already emailed 5 times within the hour. Try again in"
    )
    past = await book(api, clinic, local(clinic.tz, -3, 10), override=True)
    expired = (await api.data(SEND, {"a": past["id"]}, token=manager))["sendActionLink"]
    assert (expired["__typename"], expired["field"]) == ("ValidationError", "appointmentId") and "expired" in expired[
        "message"
    ]


async def test_a_password_reset_is_read_by_its_customer_only(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug, manager = await setup(api)
    stranger = Customer(api)
    assert (await stranger.gql(ASK_RESET, {"s": slug, "e": "ada@example.com"}))["portalRequestPasswordReset"][
        "__typename"
    ] == "PortalMessage"
    await smtp.settle()
    [mail] = smtp.received
    link = SECRET_LINK.search(text_of(mail.message))
    reset_token = link.group(1)
    deliveries = (
        await api.data(
            STAFF_VIEW,
            {"l": clinic.location, "a": (await book(api, clinic, local(clinic.tz, 4, 9)))["id"]},
            token=manager,
        )
    )["emailDeliveries"]["edges"]
    [reset] = [edge["node"] for edge in deliveries if edge["node"]["event"] == "PORTAL_SET_PASSWORD"]
    assert reset_token not in json.dumps(deliveries) and "/password/" not in reset["body"] and MASK in reset["body"]
    assert reset_token not in await stored_text()

    # A resend (staff may resend it) carries the same link, to the customer only: staff still see it masked.
    resent = (await api.data(RESEND, {"d": reset["id"]}, token=manager))["resendEmail"]
    assert resent["__typename"] == "EmailDelivery" and MASK in resent["body"] and reset_token not in json.dumps(resent)
    await smtp.settle()
    again = [m for m in smtp.received if m.message_id == resent["messageId"]]
    assert len(again) == 1 and SECRET_LINK.search(text_of(again[0].message)).group(1) == reset_token

    # The customer uses the link they received.
    assert (await stranger.gql(RESET, {"t": reset_token, "p": "a fresh password 9"}))["portalResetPassword"][
        "__typename"
    ] == "PortalMessage"
    await stranger.close()


async def test_no_token_that_was_emailed_is_stored_in_the_outbox(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug, manager = await setup(api)
    booked = await book(api, clinic, local(clinic.tz, 5, 10), token=manager)
    await api.data("mutation($a: ID!) { confirmAppointment(id: $a) { __typename } }", {"a": booked["id"]})
    await api.data(SEND, {"a": booked["id"]}, token=manager)
    visitor = Customer(api)
    await visitor.gql(ASK_RESET, {"s": slug, "e": "ada@example.com"})
    registered = await visitor.gql(
        'mutation($s: String!) { portalRegister(slug: $s, input: {firstName: "Grace", lastName: "Hopper", '
        'email: "grace@example.com", password: "%s"}) { __typename } }' % PASSWORD,
        {"s": slug},
    )
    assert registered["portalRegister"]["__typename"] == "PortalMessage"
    await smtp.settle()
    emailed = {
        found.group(0): found.group(1)
        for mail in smtp.received
        for found in SECRET_LINK.finditer(text_of(mail.message))
    }
    kinds = {re.search(r"/(action|verify|password)/", url).group(1) for url in emailed}
    assert kinds == {"action", "verify", "password"} and len(set(emailed.values())) >= 3, emailed
    stored = await stored_text()
    assert await OutboxMessage.all().count() >= len(smtp.received)
    assert [token for token in emailed.values() if token in stored] == []
    assert not re.search(r"/(?:action|verify|password)/", stored)
    await visitor.close()


def _retry_each_message_once(smtp):
    """Answer 451 to the first try of every message, keeping what that try carried."""
    first_tries = {}

    def answer(envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        if str(message["Message-ID"]) in first_tries:
            return None
        first_tries[str(message["Message-ID"])] = message
        return "451 4.3.0 Try again later"

    smtp.on_data = answer
    return first_tries


async def test_a_retry_and_a_duplicate_carry_the_same_links_and_message_id(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url(), delivery=QUICK)
    clinic, slug, _ = await setup(api)
    first_tries = _retry_each_message_once(smtp)
    await book(api, clinic, local(clinic.tz, 5, 10))
    visitor = Customer(api)
    await visitor.gql(ASK_RESET, {"s": slug, "e": "ada@example.com"})
    await smtp.wait_for(2)  # each after one refused try
    await smtp.settle()  # and recorded SENT
    accepted = {mail.message_id: mail for mail in smtp.received}
    assert set(accepted) == set(first_tries) and len(accepted) == 2
    links = {}
    for message_id, mail in accepted.items():
        assert text_of(mail.message) == text_of(first_tries[message_id])  # the same links, derived or sealed
        links[message_id] = SECRET_LINK.search(text_of(mail.message)).group(0)
    assert {re.search(r"/(action|password)/", url).group(1) for url in links.values()} == {"action", "password"}
    rows = await OutboxMessage.filter(message_id__in=list(accepted))
    assert {(row.status, row.attempts) for row in rows} == {(DeliveryStatus.SENT, 2)}

    # A worker that died after sending, before recording it: its lease runs out, the message goes again.
    smtp.on_data = None
    lapsed = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    await OutboxMessage.filter(message_id__in=list(accepted)).update(
        status=DeliveryStatus.SENDING, leased_by="dead", lease_until=lapsed
    )
    api.app.wake_workers()
    await smtp.wait_for(4)
    await smtp.settle()
    assert smtp.message_ids() == {message_id: 2 for message_id in accepted}
    for mail in smtp.received[2:]:
        assert SECRET_LINK.search(text_of(mail.message)).group(0) == links[mail.message_id]
    await visitor.close()


async def test_a_link_sealed_under_a_dropped_key_fails_its_email_until_the_key_is_held_again(api_factory, smtp):
    old = await api_factory(secret_key=OLD_KEY, run_worker=False)
    clinic, slug = await portal_clinic(old)
    asker = Customer(old)
    await asker.gql(ASK_RESET, {"s": slug, "e": "ada@example.com"})
    await asker.close()
    [queued] = await OutboxMessage.filter(event="PORTAL_SET_PASSWORD")
    rotated = await api_factory(secret_key=NEW_KEY, smtp_url=smtp.url())  # the old key dropped at once
    rotated.app.wake_workers()
    await smtp.settle()
    failed = await OutboxMessage.get(id=queued.id)
    assert (failed.status, failed.attempts, smtp.received) == (DeliveryStatus.FAILED, 0, [])
    assert "can no longer be read" in failed.last_error and "AGENDUM_SECRET_KEY_FALLBACKS" in failed.last_error
    for worker in list(rotated.app.workers):  # the servers restart holding the old key as a fallback
        worker.stop()
    held = await api_factory(secret_key=NEW_KEY, secret_key_fallbacks=(OLD_KEY,), smtp_url=smtp.url())
    resent = (await held.data(RESEND, {"d": str(queued.id)}))["resendEmail"]
    assert resent["__typename"] == "EmailDelivery"
    await smtp.settle()
    [mail] = smtp.received
    assert "/password/" in SECRET_LINK.search(text_of(mail.message)).group(0)


async def test_upgrading_seals_the_links_that_stored_emails_held_in_clear(database_url, monkeypatch):
    config = orm_config(Settings(database_url=database_url, load_entry_points=False), TEST_PLUGINS)
    action, reset = new_token(), new_token()
    legacy = (
        f"Manage it: http://clinic.example/action/{action}\nChoose a password: "
        f"https://clinic.example/portal/riverside/password/{reset}.\nThe portal: https://clinic.example/portal/riverside\n"
    )
    try:
        await migrate(config=config, target="core.0008_sent_attempts")  # the outbox as it was before
        await Tortoise.close_connections()
        await Tortoise.init(config=config)
        location = await Location.create(name="Riverside", timezone="Europe/London", currency="GBP")
        rows = [
            await OutboxMessage.create(
                location=location,
                event="APPOINTMENT_BOOKED",
                role=RecipientRole.CUSTOMER,
                to_address="ada@example.com",
                subject=subject,
                body=legacy,
                message_id=f"<{n}@agendum.test>",
                send_after=dt.datetime.now(dt.UTC),
            )
            for n, subject in enumerate(["Booked", f"Your link http://clinic.example/action/{action}"])
        ]
        await Tortoise.close_connections()
        monkeypatch.setenv("AGENDUM_SECRET_KEY", TEST_SECRET)
        await run_migrations(config)
        await Tortoise.close_connections()
        await Tortoise.init(config=config)
        stored = await stored_text()
        assert (
            action not in stored
            and reset not in stored
            and "The portal: https://clinic.example/portal/riverside\n" in stored
        )
        for row in rows:
            upgraded = await OutboxMessage.get(id=row.id)
            urls = [
                json.loads(unseal(Settings(secret_key=TEST_SECRET), sealed, PURPOSE))["url"]
                for sealed in MARKER.findall(upgraded.body)
            ]
            assert urls == [
                f"http://clinic.example/action/{action}",
                f"https://clinic.example/portal/riverside/password/{reset}",
            ]
            assert MARKER.sub("LINK", upgraded.body) == legacy.replace(urls[0], "LINK").replace(urls[1], "LINK")
        assert (await OutboxMessage.get(id=rows[1].id)).subject.startswith("Your link {{secret:")
    finally:
        await Tortoise.close_connections()
