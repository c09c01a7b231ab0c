"""Customer pages in a real browser (system chromium, phone size, JavaScript off): a page rendered
by web/pages.py through a test-only route of the real app under uvicorn shows the location's
branding, reads well, and breaks no Content-Security-Policy rule. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import uvicorn
from browser import PHONE, browser, phone, screenshot  # noqa: F401 - fixtures
from conftest import InLoopServer, free_socket, make_settings
from images import png
from starlette.requests import Request
from starlette.routing import Route

from app import create_app
from core.models import Location
from core.security.accounts import create_admin
from core.security.ratelimit import MemoryLimiter
from web.csrf import page_csrf_token
from web.pages import Pages, render_page


async def demo_page(request: Request):
    location = await Location.get(id=int(request.path_params["id"]))
    context = {
        "title": "Your appointment",
        "note": "Confirm, or cancel if you cannot come.",
        "csrf": page_csrf_token(request, "link-token"),
    }
    return await render_page(request, "webtest/demo.html", context, location=location)


@pytest.fixture
async def site(database_url):
    """The real app plus one test-only page route, served by uvicorn; yields (url, owner token)."""
    settings = make_settings(database_url)
    app = create_app(settings, limiter=MemoryLimiter())
    app.router.routes.append(Route("/test-page/{id}", demo_page))
    app.state.pages = Pages({"webtest": Path(__file__).parent / "web_templates"})
    sock = free_socket()
    server = InLoopServer(uvicorn.Config(app, log_level="warning", lifespan="on", proxy_headers=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    token = (await create_admin("owner@test.example", "owner-password-1", settings)).token
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", token
    server.should_exit = True
    await task


def logo_png() -> bytes:
    """A 180x60 logo: a white badge with an orange square and a dark bar."""

    def pixel(x: int, y: int):
        if 10 <= x < 50 and 10 <= y < 50:
            return (0xF9, 0x73, 0x16)
        if 60 <= x < 170 and 22 <= y < 38:
            return (0x1E, 0x29, 0x3B)
        return (0xFF, 0xFF, 0xFF)

    return png(180, 60, pixel)


async def test_branded_page_at_phone_size(phone, site, screenshot):  # noqa: F811
    url, token = site
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url) as http:
        created = (
            await http.post(
                "/graphql",
                headers=auth,
                json={
                    "query": (
                        'mutation { createLocation(input: {name: "Harbour Physio & Sports Clinic", timezone: "Europe/London", '
                        'currency: "GBP", locale: "en_GB"}) { ... on Location { id } } }'
                    )
                },
            )
        ).json()
        location = created["data"]["createLocation"]["id"]
        changed = (
            await http.post(
                "/graphql",
                headers=auth,
                json={
                    "query": 'mutation($id: ID!) { updateLocation(id: $id, input: {backgroundColor: "#1e3a8a"}) { __typename } }',
                    "variables": {"id": location},
                },
            )
        ).json()
        assert changed["data"]["updateLocation"]["__typename"] == "Location"
        assert (await http.post(f"/locations/{location}/logo", headers=auth, content=logo_png())).status_code == 200

    page = phone
    console = []
    page.on("console", lambda message: console.append(message.text))
    response = await page.goto(f"{url}/test-page/{location}")
    assert response.status == 200
    await page.wait_for_load_state("load")
    shot = await screenshot(page, "branded")

    body_bg = await page.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor")
    name_color = await page.eval_on_selector(".site .name", "e => getComputedStyle(e).color")
    main_bg = await page.eval_on_selector("main", "e => getComputedStyle(e).backgroundColor")
    assert body_bg == "rgb(30, 58, 138)"  # the location's colour
    assert name_color == "rgb(255, 255, 255)"  # white reads on dark blue
    assert main_bg == "rgb(255, 255, 255)"
    assert await page.inner_text(".site .name") == "Harbour Physio & Sports Clinic"
    assert await page.title() == "Your appointment · Harbour Physio & Sports Clinic"
    logo = await page.eval_on_selector(".site img", "e => [e.complete, e.naturalWidth, e.naturalHeight]")
    assert logo == [True, 180, 60]
    # Fits the phone: no sideways scrolling; touch targets at least 44 px tall.
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    heights = await page.eval_on_selector_all("button", "bs => bs.map(b => b.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44
    # Every field has its label.
    assert await page.eval_on_selector_all("input:not([type=hidden])", "is => is.every(i => i.labels.length > 0)")
    # Keyboard: the first Tab reaches the skip link, which becomes visible.
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.className") == "skip"
    skip_box = await page.eval_on_selector(".skip", "e => e.getBoundingClientRect().left")
    assert skip_box >= 0
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console
    assert shot.exists() and shot.stat().st_size > 5000

    missing = await page.goto(f"{url}/nope")
    assert missing.status == 404
    assert await page.inner_text("h1") == "Page not found"
    assert await page.query_selector(".site") is None  # no branding: nothing to tell
    await screenshot(page, "not-found")
    assert not [m for m in console if "Content Security Policy" in m or "Refused" in m], console

    # A light colour: the name turns black.
    async with httpx.AsyncClient(base_url=url) as http:
        await http.post(
            "/graphql",
            headers=auth,
            json={
                "query": 'mutation($id: ID!) { updateLocation(id: $id, input: {backgroundColor: "#fde047"}) { __typename } }',
                "variables": {"id": location},
            },
        )
    await page.goto(f"{url}/test-page/{location}")
    assert await page.eval_on_selector("body", "e => getComputedStyle(e).backgroundColor") == "rgb(253, 224, 71)"
    assert await page.eval_on_selector(".site .name", "e => getComputedStyle(e).color") == "rgb(0, 0, 0)"
    await screenshot(page, "light")
