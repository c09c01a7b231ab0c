"""Real-browser fixtures: playwright driving the system chromium (playwright cannot download its
own browsers here). A test that needs them imports them:

    from browser import browser, phone, screenshot  # noqa: F401 - fixtures

Without chromium (or the playwright package) the test SKIPS with the reason shown in the summary;
with AGENDUM_REQUIRE_BROWSER=1 (CI) it FAILS instead. Screenshots go to
test-artifacts/screenshots/ (gitignored), taken at phone size.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("AGENDUM_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("AGENDUM_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"AGENDUM_REQUIRE_BROWSER=1 but the browser is unavailable: {reason}", pytrace=False)
    pytest.skip(f"browser tests need chromium at {CHROMIUM} (apt-get install -y chromium): {reason}")


@pytest.fixture(scope="session")
async def browser():
    """The system chromium, headless, launched once per test session."""
    try:
        from playwright.async_api import Error as PlaywrightError, async_playwright
    except ImportError as error:
        _unavailable(f"the playwright package is not installed ({error}); pip install -e '.[test]'")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} does not exist or is not executable")
    playwright = await async_playwright().start()
    try:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except PlaywrightError as error:
        await playwright.stop()
        _unavailable(f"chromium did not start: {str(error).splitlines()[0]}")
    try:
        yield launched
    finally:
        await launched.close()
        await playwright.stop()


@pytest.fixture
async def phone(browser):
    """A fresh page (own cookies) in a phone-sized viewport, 390x844, touch, with JavaScript OFF:
    customer pages must work without it (playwright's own evaluate calls still work)."""
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


@pytest.fixture
def screenshot(request):
    """`await screenshot(page, "name")` saves test-artifacts/screenshots/<test>-<name>.png (full page)."""

    async def take(page, name: str = "page") -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{request.node.name}-{name}").strip("-")
        path = SCREENSHOTS / f"{stem}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    return take
