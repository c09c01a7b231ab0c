"""The client portal in a real browser (system chromium, JavaScript off), driven by labels and
roles as a customer would: create an account, confirm the email from the link that reached a real
SMTP server, sign in, book a time with a calendar (accepting the terms), see it listed, cancel it
with a reason.

Each key page is also opened at desktop size (1280x800, with the phone's cookies) and both sizes
are saved under test-artifacts/screenshots/ (`<test>-<backend>--phone-<page>.png` and `...--desktop-<page>.png`).
At phone size every page must fit the width (no sideways scrolling) and its form controls must be
touch targets of about 44px.
"""

from __future__ import annotations

import re

import pytest
from helpers import local
from portal_helpers import PASSWORD, link_in, portal_clinic, signed_up

from core.models import Appointment, AppointmentStatus
from core.timefmt import TimeFormatter
from plugins.client_portal.models import PortalAccount

DESKTOP = {"width": 1280, "height": 800}
MIN_TOUCH_PX = 43.5  # 2.75rem = 44 CSS px, less rounding
# The form controls and button-like links a customer taps (hidden inputs and checkboxes aside:
# a checkbox is tapped through its label).
CONTROLS = "main input:not([type=hidden]):not([type=checkbox]), main select, main textarea, main button, main a.button"
# The slot picker's day chips (web/templates/slot_days.html), measured on their own in the last test.
DAY_CHIPS = ".days a.button"
TERMS = "Payment is due on the day.\nMissed appointments are charged in full."
POLICY = "Please cancel at least a day ahead."


@pytest.fixture
async def desktop(browser):
    """A second page, desktop-sized and with JavaScript off like `phone`; it borrows the phone's
    cookies to show the same pages (see `capture`)."""
    context = await browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


async def follow(page, target):
    """Click a link or button that loads a new page; the response of that page."""
    async with page.expect_navigation() as navigation:
        await target.click()
    response = await navigation.value
    await page.wait_for_load_state()
    return response


def nav_link(page, name: str):
    """A link of the portal's navigation (signed in)."""
    return page.get_by_role("navigation", name="Client portal").get_by_role("link", name=name, exact=True)


async def main_text(page) -> str:
    return await page.locator("main").inner_text()


async def mailed_to(smtp, since: int, count: int) -> list[str]:
    """The recipients, sorted, of the `count` emails after the first `since` to reach the SMTP server."""
    await smtp.wait_for(since + count)
    return sorted(address for mail in smtp.received[since : since + count] for address in mail.recipients)


async def short_controls(page, selector: str, *, leave_out: str = "") -> list:
    """[label, height] of the visible elements matching `selector` (not inside `leave_out`)
    that are under MIN_TOUCH_PX tall."""
    return await page.evaluate(
        """([selector, leaveOut, min]) => [...document.querySelectorAll(selector)]
             .filter(e => e.getClientRects().length > 0 && !(leaveOut && e.closest(leaveOut)))
             .map(e => [(e.innerText || e.id || e.name || e.tagName).trim(), Math.round(e.getBoundingClientRect().height * 10) / 10])
             .filter(([, height]) => height < min)""",
        [selector, leave_out, MIN_TOUCH_PX],
    )


async def assert_fits_a_phone(page) -> None:
    """No sideways scrolling, and every visible control is at least ~44px tall."""
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]}px content in a {widths[1]}px window"
    small = await short_controls(page, CONTROLS, leave_out=".days")
    assert not small, f"{page.url}: controls under {MIN_TOUCH_PX}px tall: {small}"


async def capture(phone, desktop, screenshot, name: str, *, on_desktop: bool = True) -> None:
    """Check the phone's page layout and screenshot it; then open the same URL at desktop size
    with the phone's cookies (a GET: pages only show) and screenshot that too."""
    await assert_fits_a_phone(phone)
    await screenshot(phone, f"phone-{name}")
    if not on_desktop:
        return
    await desktop.context.add_cookies(await phone.context.cookies())
    response = await desktop.goto(phone.url)
    assert response.status == 200, (phone.url, response.status)
    assert await desktop.locator("h1").inner_text() == await phone.locator("h1").inner_text()
    await screenshot(desktop, f"desktop-{name}")


async def test_new_customer_registers_confirms_books_and_cancels_in_a_browser(
    api_factory, smtp, phone, desktop, screenshot
):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(
        api,
        {"termsAndConditions": TERMS},
        rules={"cancellationReasons": ["Feeling better", "Ill", "Other"], "cancellationPolicy": POLICY},
    )
    page = phone

    # Signed out, the portal is the sign-in page, with the way to register.
    assert (await page.goto(f"{api.url}/portal/{slug}")).status == 200
    assert await page.locator("h1").inner_text() == "Sign in"
    await capture(page, desktop, screenshot, "sign-in")
    await follow(page, page.get_by_role("link", name="Create an account"))
    assert await page.locator("h1").inner_text() == "Create your account"
    await capture(page, desktop, screenshot, "register")

    await page.get_by_label("First name").fill("Grace")
    await page.get_by_label("Last name").fill("Hopper")
    await page.get_by_label("Email").fill("grace@example.com")
    await page.get_by_label("Mobile phone").fill("+44 7700 900555")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    assert (await follow(page, page.get_by_role("button", name="Create account"))).status == 200
    assert "We have sent a link to grace@example.com" in await main_text(page)
    await capture(page, desktop, screenshot, "check-your-email", on_desktop=False)

    # The confirmation email reached the SMTP server; its link (on the test's base URL) opens here.
    await smtp.wait_for(1)
    mail = smtp.received[0]
    assert mail.recipients == ["grace@example.com"] and "Confirm your email" in mail.message["Subject"]
    link = link_in(mail).replace(api.settings.base_url, api.url, 1)
    assert (await page.goto(link)).status == 200
    assert await page.locator("h1").inner_text() == "Confirm your email" and "grace@example.com" in await main_text(
        page
    )
    await capture(page, desktop, screenshot, "confirm-email")
    assert (
        await PortalAccount.get(email_key="grace@example.com")
    ).verified_at is None  # opening the link is not confirming
    await follow(page, page.get_by_role("button", name="Confirm my email"))
    assert "Your email address is confirmed. Please sign in." in await main_text(page)
    assert (await PortalAccount.get(email_key="grace@example.com")).verified_at is not None

    # Sign in: the email is filled in already.
    assert await page.get_by_label("Email").input_value() == "grace@example.com"
    await page.get_by_label("Password").fill(PASSWORD)
    await follow(page, page.get_by_role("button", name="Sign in"))
    text = await main_text(page)
    assert "Hello Grace" in text and "You have no upcoming appointments." in text

    # Book: the service with a calendar, a day, a time, the terms.
    await follow(page, nav_link(page, "Book"))
    assert await page.locator("h1").inner_text() == "Book an appointment"
    await follow(page, page.get_by_role("link", name="With Dr Who"))
    assert await page.locator("h1").inner_text() == "Choose a time"
    start = local(clinic.tz, 2, 10)
    fmt = TimeFormatter(clinic.tz, "en")  # the location's language is English
    await follow(page, page.get_by_role("link", name=re.compile("^" + re.escape(fmt.day(start) + ", "))))
    assert await page.locator("main h2").first.inner_text() == fmt.day(start)
    # The day names its zone once; its times are bare, and each one's accessible name is whole.
    assert f"Times are in {start.tzname()} (Europe/London time)." in await main_text(page)
    assert "10:00\u202fAM" in await page.locator(".times").inner_text()
    await capture(page, desktop, screenshot, "slots")
    await follow(page, page.locator(".times").get_by_role("link", name=fmt.datetime(start), exact=True))
    assert await page.locator("h1").inner_text() == "Confirm your booking"
    when = fmt.datetime(start)
    assert when.endswith(f", 10:00\u202fAM {start.tzname()}")  # GMT or BST: the time names its zone
    text = await main_text(page)
    assert (
        "Checkup" in text and "Dr Who" in text and when in text and "Missed appointments are charged in full." in text
    )
    await capture(page, desktop, screenshot, "confirm")
    await page.get_by_label("I have read and accept the terms and conditions").check()
    assert (await follow(page, page.get_by_role("button", name="Book this time"))).status == 200
    text = await main_text(page)
    assert f"Your appointment on {when} is booked." in text
    assert await mailed_to(smtp, 1, 2) == ["grace@example.com", "who@clinic.example"]  # "We have sent you an email."
    await capture(page, desktop, screenshot, "booked", on_desktop=False)

    # The appointment is listed, with a way to cancel it.
    await follow(page, nav_link(page, "My appointments"))
    text = await main_text(page)
    assert when in text and "Checkup with Dr Who" in text and "Confirmed" in text
    assert "You have no upcoming appointments." not in text
    await capture(page, desktop, screenshot, "appointments")

    # Cancel it with a reason.
    await follow(page, page.get_by_role("link", name="Cancel this appointment"))
    assert await page.locator("h1").inner_text() == "Cancel your appointment"
    text = await main_text(page)
    assert POLICY in text and when in text
    await capture(page, desktop, screenshot, "cancel")
    await page.get_by_label("Reason").select_option("Ill")
    await page.get_by_label("Anything we should know?").fill("Flu, sorry")
    assert (await follow(page, page.get_by_role("button", name="Cancel appointment"))).status == 200
    assert f"Your appointment on {when} is cancelled." in await main_text(page)
    assert await mailed_to(smtp, 3, 2) == ["grace@example.com", "who@clinic.example"]
    await capture(page, desktop, screenshot, "cancelled", on_desktop=False)
    await page.reload()  # the page after a POST can be reloaded: nothing is sent again
    text = await main_text(page)
    assert when in text and "Cancelled" in text
    assert await page.get_by_role("link", name="Cancel this appointment").count() == 0
    await capture(page, desktop, screenshot, "appointments-after-cancel", on_desktop=False)

    # One appointment, for the new customer, cancelled with the reason and note given.
    rows = await Appointment.filter(location_id=int(clinic.location)).prefetch_related("customer")
    assert len(rows) == 1
    row = rows[0]
    assert (row.status, row.cancellation_reason, row.cancellation_note) == (
        AppointmentStatus.CANCELLED,
        "Ill",
        "Flu, sorry",
    )
    assert row.starts_at == start and row.calendar_id == int(clinic.calendar) and row.service_id == int(clinic.service)
    assert (row.customer.first_name, row.customer.last_name, row.customer.email) == (
        "Grace",
        "Hopper",
        "grace@example.com",
    )
    assert len(smtp.received) == 5


async def test_slot_picker_day_chips_are_touch_sized_on_a_phone(api_factory, smtp, phone):
    api = await api_factory(smtp_url=smtp.url())
    clinic, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")  # set-up over GraphQL: the flow is the test above
    await phone.context.add_cookies(
        [{"name": cookie.name, "value": cookie.value, "url": api.url} for cookie in grace.client.cookies.jar]
    )
    await grace.close()
    response = await phone.goto(f"{api.url}/portal/{slug}/book?service={clinic.service}&calendar={clinic.calendar}")
    assert response.status == 200 and await phone.locator(DAY_CHIPS).count() > 1
    short = await short_controls(phone, DAY_CHIPS)
    assert not short, f"{len(short)} day chips under {MIN_TOUCH_PX}px tall, e.g. {short[0]}"
