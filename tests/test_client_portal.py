"""Client portal through GraphQL and a real SMTP server: register, confirm, sign in, book,
cancel; staff notices replace the core's for portal changes; policy and access settings."""

from __future__ import annotations

from helpers import local
from portal_helpers import APPOINTMENTS, BOOK, CANCEL, LOGIN, PASSWORD, VERIFY, portal_clinic, registered, signed_up

from core.models import AppointmentEvent, OutboxMessage


async def test_register_verify_sign_in_book_and_cancel_end_to_end(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api, {"newAppointmentAddresses": ["desk@clinic.example"]})
    # Core's own staff notices are on too: for portal changes the portal's replace them.
    notices = [{"event": "APPOINTMENT_BOOKED"}, {"event": "APPOINTMENT_CANCELLED"}]
    await api.data(
        "mutation($l: ID!, $n: [StaffNoticeInput!]!) { updateEmailSettings(locationId: $l, input: {staffNotices: $n}) { __typename } }",
        {"l": clinic.location, "n": notices},
    )
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    verify_mail = smtp.received[0]
    assert verify_mail.recipients == ["grace@example.com"] and "Confirm your email" in verify_mail.message["Subject"]
    me = (
        await grace.gql(
            "{ portalMe { __typename ... on PortalCustomer { firstName email hasPassword locationName portalUrl } } }"
        )
    )["portalMe"]
    assert me == {
        "__typename": "PortalCustomer",
        "firstName": "Grace",
        "email": "grace@example.com",
        "hasPassword": True,
        "locationName": "Clinic",
        "portalUrl": f"http://testserver/portal/{slug}",
    }
    start = local(clinic.tz, 3, 10)
    booked = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": start.isoformat()}}))["portalBook"]
    assert (
        booked["__typename"] == "PortalAppointment"
        and booked["status"] == "CONFIRMED"
        and booked["calendarName"] == "Dr Who"
    )
    await smtp.wait_for(4)
    to = sorted(r for mail in smtp.received[1:4] for r in mail.recipients)
    assert to == ["desk@clinic.example", "grace@example.com", "who@clinic.example"]
    notice = next(m for m in smtp.received[1:4] if m.recipients == ["who@clinic.example"])
    body = notice.message.get_body(("plain",)).get_content()
    assert "Grace Hopper (+44 7700 900555) just made this appointment via the client portal" in body
    assert (
        await OutboxMessage.filter(event__in=["APPOINTMENT_BOOKED", "APPOINTMENT_CANCELLED"], role="STAFF").count() == 0
    )  # replaced
    listed = (await grace.gql(APPOINTMENTS))["portalAppointments"]["appointments"]
    assert [a["id"] for a in listed] == [booked["id"]] and listed[0]["canCancel"]
    cancelled = (await grace.gql(CANCEL, {"a": booked["id"], "n": "flu"}))["portalCancel"]
    assert cancelled == {"__typename": "PortalAppointment", "id": booked["id"], "status": "CANCELLED"}
    await smtp.wait_for(6)
    await smtp.settle()  # nothing more follows: the diary contact is told once
    assert len(smtp.received) == 6
    assert (
        await OutboxMessage.filter(event__in=["APPOINTMENT_BOOKED", "APPOINTMENT_CANCELLED"], role="STAFF").count() == 0
    )
    cancel_notice = next(m for m in smtp.received[4:6] if m.recipients == ["who@clinic.example"])
    assert (
        "just cancelled this appointment via the client portal"
        in cancel_notice.message.get_body(("plain",)).get_content()
    )
    history = (
        await AppointmentEvent.filter(appointment_id=int(booked["id"]))
        .order_by("id")
        .values_list("action", "actor_kind")
    )
    assert [(a, k.value) for a, k in history] == [("BOOKED", "PORTAL"), ("CANCELLED", "PORTAL")]
    await grace.close()


async def test_unverified_accounts_cannot_sign_in_and_links_work_once(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url())
    _, slug = await portal_clinic(api)
    visitor, link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    refused = (await visitor.gql(LOGIN, {"s": slug, "e": "alan@example.com", "p": PASSWORD}))["portalLogin"]
    assert refused["__typename"] == "EmailNotVerified"
    token = link.rsplit("/", 1)[1]
    assert (await visitor.gql(VERIFY, {"t": token}))["portalVerifyEmail"]["__typename"] == "PortalMessage"
    again = (await visitor.gql(VERIFY, {"t": token}))["portalVerifyEmail"]
    assert again["__typename"] == "LinkUnavailable" and again["status"] == "USED"
    wrong = (await visitor.gql(LOGIN, {"s": slug, "e": "alan@example.com", "p": "not the password"}))["portalLogin"]
    unknown = (await visitor.gql(LOGIN, {"s": slug, "e": "nobody@example.com", "p": PASSWORD}))["portalLogin"]
    assert wrong == unknown == {"__typename": "InvalidCredentials", "message": wrong["message"]}
    assert (await visitor.gql(LOGIN, {"s": slug, "e": "ALAN@example.com", "p": PASSWORD}))["portalLogin"][
        "__typename"
    ] == "PortalSignedIn"
    await visitor.close()
