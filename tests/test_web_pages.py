"""Customer pages (web/pages.py): security headers on every page, the shared 404/410/429 pages,
branding (colour, logo, readable text colour), escaping of hostile names, plugin template folders."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from images import png
from jinja2 import TemplateNotFound
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from core.branding import Branding
from core.colors import contrast_ratio, relative_luminance, text_color_for
from core.errors import RateLimited
from core.models import Calendar, Location
from web.csrf import page_csrf_token
from web.pages import Pages, gone_page, not_found_page, render_page, too_many_page

WEB_TEMPLATES = Path(__file__).parent / "web_templates"

HOSTILE = '<script>alert("x")</script> & Bob\'s <img src=x onerror=alert(1)>'


async def demo(request: Request):
    location = await Location.get(id=int(request.path_params["id"]))
    context = {
        "title": "Your appointment",
        "note": request.query_params.get("note", ""),
        "csrf": page_csrf_token(request, "link-token"),
    }
    return await render_page(request, "webtest/demo.html", context, location=location)


async def gone(request: Request):
    calendar = await Calendar.get(id=int(request.path_params["id"]))
    location = await Location.get(id=calendar.location_id)
    return await gone_page(
        request,
        location=location,
        message="This link has already been used.",
        owner_name=calendar.owner_name,
        owner_email=calendar.owner_email,
        owner_phone=calendar.owner_phone,
    )


async def busy(request: Request):
    return await too_many_page(request, RateLimited(7.2))


async def missing(request: Request):
    return await not_found_page(request)


def page_client(api) -> httpx.AsyncClient:
    """A client of a test-only app with page routes, sharing the test's database and settings."""
    app = Starlette(
        routes=[Route("/demo/{id}", demo), Route("/gone/{id}", gone), Route("/busy", busy), Route("/missing", missing)]
    )
    app.state.settings = api.settings
    app.state.pages = Pages({"webtest": WEB_TEMPLATES})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def make_location(api, name: str = "Sunny Dental", color: str | None = None, **extra) -> str:
    created = await api.data(
        "mutation($i: CreateLocationInput!) { createLocation(input: $i) { ... on Location { id } } }",
        {"i": {"name": name, "timezone": "Europe/London", "currency": "GBP", "locale": "en_GB", **extra}},
    )
    location = created["createLocation"]["id"]
    if color:
        changed = await api.data(
            "mutation($id: ID!, $c: String!) { updateLocation(id: $id, input: {backgroundColor: $c}) { __typename } }",
            {"id": location, "c": color},
        )
        assert changed["updateLocation"]["__typename"] == "Location", changed
    return location


def check_page_headers(response: httpx.Response) -> None:
    """The headers every customer page must carry, and a CSP that allows no script at all."""
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'none'" and "script-src" not in csp  # scripts fall back to 'none'
    assert csp["img-src"] == "'self'" and csp["frame-ancestors"] == "'none'" and csp["form-action"] == "'self'"
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", csp["style-src"]).group(1)
    html = response.text
    assert f'<style nonce="{nonce}">' in html and html.count("<style") == 1
    assert (
        "<script" not in html.lower()
        and " style=" not in html
        and "unsafe" not in response.headers["content-security-policy"]
    )
    assert re.search(r'<html lang="[a-z]{2}(-[A-Z]{2})?">', html)
    assert '<main id="main"' in html and 'href="#main"' in html and '<meta name="viewport"' in html


def without_nonce(html: str) -> str:
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)


async def test_every_page_carries_the_security_headers(api):
    location = await make_location(api)
    async with page_client(api) as http:
        for path, status in ((f"/demo/{location}", 200), ("/missing", 404), ("/busy", 429)):
            response = await http.get(path)
            assert response.status_code == status, path
            check_page_headers(response)
        first, second = await http.get(f"/demo/{location}"), await http.get(f"/demo/{location}")
    assert first.headers["content-security-policy"] != second.headers["content-security-policy"]  # a nonce per response


async def test_unknown_urls_of_the_real_app_get_the_404_page_plugins_use(api):
    location = await make_location(api, name="Secret Clinic")
    pages = [await api.client.get(path) for path in ("/nope", "/a/b/c?token=abc", f"/locations/{location}/nope")]
    async with page_client(api) as http:
        pages.append(await http.get("/missing"))
    for page in pages:
        assert page.status_code == 404
        check_page_headers(page)
        assert "Page not found" in page.text and "Secret Clinic" not in page.text
    # One page for every unknown address, whatever it was: nothing tells an unknown token from a disabled plugin.
    assert len({without_nonce(page.text) for page in pages}) == 1


async def test_hostile_names_are_escaped(api):
    location = await make_location(api, name=HOSTILE)
    calendar = (
        await api.data(
            'mutation($l: ID!, $n: String!) { createCalendar(input: {locationId: $l, name: "Diary", ownerName: $n, ownerEmail: "who@clinic.example"}) { ... on Calendar { id } } }',
            {"l": location, "n": HOSTILE},
        )
    )["createCalendar"]["id"]
    async with page_client(api) as http:
        pages = [await http.get(f"/gone/{calendar}"), await http.get(f"/demo/{location}", params={"note": HOSTILE})]
    for page in pages:
        assert "<script" not in page.text and "<img src=x" not in page.text and "onerror=alert(1)>" not in page.text
        assert (
            "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Bob&#39;s &lt;img src=x onerror=alert(1)&gt;"
            in page.text
        )
        check_page_headers(page)
    assert pages[0].status_code == 410


async def test_gone_page_names_who_to_contact_in_the_location_branding(api):
    location = await make_location(api, color="#14532d")
    calendar = (
        await api.data(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Dr Who", ownerName: "Dr Who", ownerEmail: "who@clinic.example", ownerPhone: "+44 20 7946 0000"}) { ... on Calendar { id } } }',
            {"l": location},
        )
    )["createCalendar"]["id"]
    async with page_client(api) as http:
        page = await http.get(f"/gone/{calendar}")
    assert page.status_code == 410
    assert "Link unavailable" in page.text and "This link has already been used." in page.text
    assert "Please contact" in page.text and "Dr Who" in page.text
    assert 'href="mailto:who@clinic.example"' in page.text and 'href="tel:+442079460000"' in page.text
    assert "--brand: #14532d; --on-brand: #ffffff;" in page.text and "Sunny Dental" in page.text


async def test_too_many_page_says_when_to_retry(api):
    async with page_client(api) as http:
        page = await http.get("/busy")
    assert page.status_code == 429 and page.headers["retry-after"] == "8"
    assert "try again in 8 seconds" in page.text


async def test_pages_show_the_location_colour_logo_and_name(api):
    location = await make_location(api, name="Harbour Physio", color="#1e3a8a")
    async with page_client(api) as http:
        page = (await http.get(f"/demo/{location}")).text
        assert "--brand: #1e3a8a; --on-brand: #ffffff;" in page  # white text on dark blue
        assert '<p class="name">Harbour Physio</p>' in page and "<img" not in page and 'lang="en-GB"' in page
        assert 'name="csrf_token" value="' in page

        uploaded = await api.client.post(
            f"/locations/{location}/logo", content=png(), headers={"Authorization": f"Bearer {api.owner_token}"}
        )
        assert uploaded.status_code == 200, uploaded.text
        page = (await http.get(f"/demo/{location}")).text
        src = re.search(r'<img src="([^"]+)" alt="">', page).group(1)
        assert re.fullmatch(rf"/locations/{location}/logo\?v=\d+", src)
        assert (await api.client.get(src)).content == png()

        # A branch sharing its headquarters' settings: the headquarters' colour and logo, its own name.
        branch = await make_location(
            api, name="Harbour Physio East", headquartersId=location, sharesHeadquartersSettings=True
        )
        page = (await http.get(f"/demo/{branch}")).text
        assert "--brand: #1e3a8a;" in page and f'<img src="{src}"' in page and "Harbour Physio East" in page

        light = await make_location(api, name="Lemon", color="#fde047")
        assert "--brand: #fde047; --on-brand: #000000;" in (await http.get(f"/demo/{light}")).text


@pytest.mark.parametrize(
    "background, expected",
    [
        ("#ffffff", "#000000"),
        ("#000000", "#ffffff"),
        ("#fde047", "#000000"),
        ("#1e3a8a", "#ffffff"),
        ("#777777", "#000000"),
        ("#0000ff", "#ffffff"),
        ("#ff0000", "#000000"),
        ("#00ff00", "#000000"),
    ],
)
def test_text_colour_is_chosen_from_the_background_luminance(background, expected):
    assert text_color_for(background) == expected


def test_text_colour_always_reaches_wcag_aa_contrast():
    for value in range(0, 256, 5):
        for color in (
            f"#{value:02x}{value:02x}{value:02x}",
            f"#{value:02x}0000",
            f"#00{value:02x}00",
            f"#0000{value:02x}",
            f"#{value:02x}{255 - value:02x}80",
            f"#ff{value:02x}00",
        ):
            assert contrast_ratio(color, text_color_for(color)) >= 4.5, color
    assert relative_luminance("#ffffff") == pytest.approx(1) and relative_luminance("#000000") == 0
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)


def test_each_app_renders_its_own_plugins_templates(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (one, two):
        folder.mkdir()
    (one / "page.html").write_text("{% extends 'base.html' %}{% block content %}one {{ x }}{% endblock %}")
    (one / "error.html").write_text("HIJACKED")
    (two / "page.html").write_text("two")
    a, b = Pages({"plugin": one}), Pages({"plugin": two, "other": one})

    def render(pages: Pages, name: str) -> str:
        return pages.env.get_template(name).render(
            x="<b>",
            title="t",
            message="m",
            contact=None,
            retry_after=None,
            brand=Branding(),
            csp_nonce="n",
            request=None,
        )

    assert "one &lt;b&gt;" in render(a, "plugin/page.html") and render(b, "plugin/page.html") == "two"
    assert "one &lt;b&gt;" in render(b, "other/page.html")
    with pytest.raises(TemplateNotFound):
        a.env.get_template("other/page.html")
    # A plugin's folder cannot replace the toolkit's layout or error page.
    assert "HIJACKED" not in render(a, "error.html") and render(a, "plugin/error.html") == "HIJACKED"
    for bad in ("", "a/b"):
        with pytest.raises(ValueError):
            Pages({bad: one})
