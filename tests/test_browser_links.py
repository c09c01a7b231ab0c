"""Customer pages in a real browser (system chromium, phone size, JavaScript off): the action link
from an email, and a one-time booking link."""

from __future__ import annotations

import re

from helpers import book, local, make_clinic

from core.models import Appointment

LINK_RE = re.compile(r"http://testserver(/action/[A-Za-z0-9_-]{43})")


async def test_action_link_reschedule_then_cancel_with_a_reason(api_factory, smtp, phone, screenshot):
    api = await api_factory(smtp_url=smtp.url())
    clinic = await make_clinic(
        api, rules={"cancellationReasons": ["Feeling better", "Clash"], "cancellationReasonRequired": True}
    )
    await api.data(
        'mutation($l: ID!) { updateLocation(id: $l, input: {tier: GOLD, backgroundColor: "#0f766e"}) { __typename } }',
        {"l": clinic.location},
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    await smtp.wait_for(1)  # the link as the customer receives it
    path = LINK_RE.search(smtp.received[0].message.get_body(("plain",)).get_content()).group(1)
    page = phone
    response = await page.goto(f"{api.url}{path}")
    assert response.status == 200
    assert await page.inner_text("h1") == "Your appointment"
    await screenshot(page, "appointment")
    await page.click("text=Choose a new time")
    await page.wait_for_load_state()
    assert await page.inner_text("h1") == "Choose a new time"
    await screenshot(page, "slots")
    await page.locator(".times button").nth(4).click()
    await page.wait_for_load_state()
    assert "Your appointment has moved" in await page.inner_text("main")
    row = await Appointment.get(id=int(booked["id"]))
    assert row.sequence == 1 and row.starts_at != local(clinic.tz, 5, 10)
    await page.select_option("#reason", "Clash")
    await page.fill("#note", "A work trip came up")
    await page.click("text=Cancel my appointment")
    await page.wait_for_load_state()
    assert "Your appointment is cancelled" in await page.inner_text("main")
    await screenshot(page, "cancelled")
    row = await Appointment.get(id=int(booked["id"]))
    assert (row.status.value, row.cancellation_reason, row.cancellation_note) == (
        "CANCELLED",
        "Clash",
        "A work trip came up",
    )


async def test_one_time_link_book_then_see_the_contact_the_owner_message(api, phone, screenshot):
    clinic = await make_clinic(api)
    await api.data(
        'mutation($c: ID!) { updateCalendar(id: $c, input: {ownerName: "Dr Who", ownerPhone: "+44 7700 900999"}) { __typename } }',
        {"c": clinic.calendar},
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    created = await api.data(
        "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }",
        {"c": clinic.calendar},
    )
    path = created["createOneTimeLink"]["url"].replace("http://testserver", "")
    page = phone
    assert (await page.goto(f"{api.url}{path}")).status == 200
    await screenshot(page, "times")
    await page.locator(".times a").nth(2).click()
    await page.wait_for_load_state()
    assert await page.inner_text("h1") == "Your details"
    await page.fill("#first_name", "Grace")
    await page.fill("#last_name", "Hopper")
    await page.fill("#email", "grace@example.com")
    await page.fill("#mobile_phone", "+44 7700 900555")
    await screenshot(page, "details")
    await page.click("text=Book this time")
    await page.wait_for_load_state()
    assert await page.inner_text("h1") == "You are booked"
    await screenshot(page, "booked")
    assert await Appointment.all().count() == 1
    again = await page.goto(f"{api.url}{path}")
    assert again.status == 410
    text = await page.inner_text("main")
    assert "This link has already been used." in text and "Dr Who" in text and "+44 7700 900999" in text
    await screenshot(page, "used")
