"""Branding: the background colour through GraphQL, and the logo routes (upload checked by
content and size, scope, served back byte-identical with the right headers)."""

from __future__ import annotations

import hashlib

from images import GIF, HTML, JPEG, SVG, WEBP, png

from core.models import LocationLogo, StaffUser
from core.security.accounts import issue_token

BRANDING = "query($id: ID!) { location(id: $id) { ... on Location { name backgroundColor logoUrl } } }"
UPDATE = """mutation($id: ID!, $i: UpdateLocationInput!) { updateLocation(id: $id, input: $i) {
  __typename ... on Location { backgroundColor } ... on ValidationError { field message } } }"""


async def new_location(api, name: str = "Clinic", **extra) -> str:
    created = await api.data(
        "mutation($i: CreateLocationInput!) { createLocation(input: $i) { ... on Location { id } } }",
        {"i": {"name": name, "timezone": "UTC", "currency": "EUR", **extra}},
    )
    return created["createLocation"]["id"]


async def branding(api, location: str) -> dict:
    return (await api.data(BRANDING, {"id": location}))["location"]


async def manager_token(api, location: str, email: str) -> str:
    created = await api.data(
        'mutation($e: String!, $l: ID!) { createStaffUser(input: {email: $e, name: "M", password: "manager-password-1", role: MANAGER, locationIds: [$l]}) { ... on StaffUser { id } } }',
        {"e": email, "l": location},
    )
    return (await issue_token(await StaffUser.get(id=int(created["createStaffUser"]["id"])), 1)).token


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def upload(
    api,
    location: str,
    data: bytes,
    *,
    token: str | None = "owner",
    multipart: bool = False,
    filename: str = "logo.png",
    content_type: str = "image/png",
):
    headers = auth(api.owner_token if token == "owner" else token) if token else {}
    url = f"/locations/{location}/logo"
    if multipart:
        return await api.client.post(url, files={"logo": (filename, data, content_type)}, headers=headers)
    return await api.client.post(url, content=data, headers={**headers, "Content-Type": content_type})


async def served(api, location: str):
    return await api.client.get(f"/locations/{location}/logo")


# ------------------------------------------------------------------ colour


async def test_background_colour_defaults_to_white_and_can_be_changed(api):
    location = await new_location(api)
    assert await branding(api, location) == {"name": "Clinic", "backgroundColor": "#ffffff", "logoUrl": None}
    changed = (await api.data(UPDATE, {"id": location, "i": {"backgroundColor": "#1A2b3C"}}))["updateLocation"]
    assert changed == {"__typename": "Location", "backgroundColor": "#1a2b3c"}
    assert (await branding(api, location))["backgroundColor"] == "#1a2b3c"


BAD_COLOURS = [
    "red",
    "#fff",
    "#12345g",
    "#1234567",
    "123456",
    "#12 345",
    "",
    "#1a2b3c;}body{display:none",
    "</style><script>alert(1)</script>",
    "url(javascript:alert(1))",
    "#ａｂｃｄｅｆ",
]


async def test_invalid_colour_is_refused_and_changes_nothing(api):
    location = await new_location(api)
    await api.data(UPDATE, {"id": location, "i": {"backgroundColor": "#123456"}})
    for bad in BAD_COLOURS:
        refused = (await api.data(UPDATE, {"id": location, "i": {"backgroundColor": bad, "name": "Renamed"}}))[
            "updateLocation"
        ]
        assert refused["__typename"] == "ValidationError" and refused["field"] == "backgroundColor", (bad, refused)
        assert "#rrggbb" in refused["message"]
    assert await branding(api, location) == {"name": "Clinic", "backgroundColor": "#123456", "logoUrl": None}


async def test_null_colour_is_refused(api):
    location = await new_location(api)
    refused = (await api.data(UPDATE, {"id": location, "i": {"backgroundColor": None}}))["updateLocation"]
    assert refused["__typename"] == "ValidationError" and refused["field"] == "backgroundColor"


async def test_a_branch_sharing_settings_shows_and_keeps_the_headquarters_branding(api):
    hq = await new_location(api, "HQ")
    await api.data(UPDATE, {"id": hq, "i": {"backgroundColor": "#0f766e"}})
    assert (await upload(api, hq, png())).status_code == 200
    branch = await new_location(api, "Branch", headquartersId=hq, sharesHeadquartersSettings=True)
    hq_branding = await branding(api, hq)
    assert await branding(api, branch) == {**hq_branding, "name": "Branch"}
    refused = (await api.data(UPDATE, {"id": branch, "i": {"backgroundColor": "#000000"}}))["updateLocation"]
    assert refused["__typename"] == "ValidationError" and "headquarters" in refused["message"]
    response = await upload(api, branch, JPEG, content_type="image/jpeg")
    assert response.status_code == 400 and "headquarters" in response.json()["error"]
    assert await LocationLogo.filter(location_id=int(branch)).count() == 0
    # Once it stops sharing, it has (and may change) its own.
    own = (
        await api.data(UPDATE, {"id": branch, "i": {"sharesHeadquartersSettings": False, "backgroundColor": "#222222"}})
    )["updateLocation"]
    assert own == {"__typename": "Location", "backgroundColor": "#222222"}
    assert (await branding(api, branch))["logoUrl"] is None


# ------------------------------------------------------------------ logo upload


async def test_logo_upload_is_served_back_byte_identical(api):
    for kind, data, content_type in (
        ("png", png(16, 8), "image/png"),
        ("jpeg", JPEG, "image/jpeg"),
        ("webp", WEBP, "image/webp"),
    ):
        for multipart in (True, False):
            location = await new_location(api, f"{kind} {multipart}")
            # The declared type is ignored: the content decides.
            response = await upload(
                api,
                location,
                data,
                multipart=multipart,
                filename="whatever.bin",
                content_type="application/octet-stream",
            )
            assert response.status_code == 200, (kind, multipart, response.text)
            body = response.json()
            assert body["contentType"] == content_type and body["size"] == len(data)
            logo_url = (await branding(api, location))["logoUrl"]
            assert logo_url == body["logoUrl"] and logo_url.startswith(
                f"{api.settings.base_url}/locations/{location}/logo?v="
            )

            got = await served(api, location)
            assert got.status_code == 200 and got.content == data
            assert got.headers["content-type"] == content_type
            assert got.headers["x-content-type-options"] == "nosniff"
            assert got.headers["cache-control"] == "public, max-age=86400"
            assert got.headers["etag"] == '"%s"' % hashlib.sha256(data).hexdigest()[:32]
            again = await api.client.get(f"/locations/{location}/logo", headers={"If-None-Match": got.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            versioned = await api.client.get(logo_url.removeprefix(api.settings.base_url))
            assert versioned.content == data


async def test_replacing_a_logo_changes_its_address(api):
    location = await new_location(api)
    first = (await upload(api, location, png(2, 2))).json()
    second = (await upload(api, location, JPEG, content_type="image/jpeg")).json()
    assert second["logoUrl"] != first["logoUrl"] and second["contentType"] == "image/jpeg"
    assert (await served(api, location)).content == JPEG
    assert await LocationLogo.filter(location_id=int(location)).count() == 1


REFUSED = [
    ("html named .png", HTML),
    ("svg", SVG),
    ("gif", GIF),
    ("text", b"just some text"),
    ("png signature only", b"\x89PNG\r\n\x1a\n" + HTML),
    ("riff but not webp", b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 16),
]


async def test_anything_but_png_jpeg_webp_is_refused_by_content(api):
    location = await new_location(api)
    assert (await upload(api, location, WEBP, content_type="image/webp")).status_code == 200
    for name, data in REFUSED:
        for multipart in (True, False):
            refused = await upload(
                api, location, data, multipart=multipart, filename="logo.png", content_type="image/png"
            )
            assert refused.status_code == 415, (name, multipart, refused.text)
            assert refused.headers["content-type"] == "application/json"
            assert refused.json() == {"error": "The logo must be a PNG, JPEG or WebP image."}
    got = await served(api, location)
    assert got.content == WEBP and got.headers["content-type"] == "image/webp"  # nothing changed


async def test_oversized_logo_is_refused(api):
    location = await new_location(api)
    big = png(2, 2) + b"\x00" * (512 * 1024)
    for kwargs in ({}, {"multipart": True}):
        refused = await upload(api, location, big, **kwargs)
        assert refused.status_code == 413 and "512 KB" in refused.json()["error"]

    async def streamed():  # no Content-Length: the body is cut off while it streams in
        yield png(2, 2)
        for _ in range(600):
            yield b"\x00" * 1024

    refused = await api.client.post(f"/locations/{location}/logo", content=streamed(), headers=auth(api.owner_token))
    assert refused.status_code == 413
    assert (await served(api, location)).status_code == 404
    exactly = png(2, 2) + b"\x00" * (512 * 1024 - len(png(2, 2)))
    assert (await upload(api, location, exactly)).status_code == 200


async def test_empty_and_malformed_uploads_are_refused(api):
    location = await new_location(api)
    assert (await upload(api, location, b"")).status_code == 400
    missing_field = await api.client.post(
        f"/locations/{location}/logo", files={"image": ("a.png", png(), "image/png")}, headers=auth(api.owner_token)
    )
    assert missing_field.status_code == 400 and "logo" in missing_field.json()["error"]
    broken = await api.client.post(
        f"/locations/{location}/logo",
        content=b"--x\r\nnonsense",
        headers={**auth(api.owner_token), "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert broken.status_code == 400
    assert (await served(api, location)).status_code == 404


async def test_logo_routes_check_the_caller_and_scope(api):
    mine, theirs = await new_location(api, "Mine"), await new_location(api, "Theirs")
    assert (await upload(api, theirs, JPEG, content_type="image/jpeg")).status_code == 200
    other_manager = await manager_token(api, mine, "m@mine.example")
    own_manager = await manager_token(api, theirs, "m@theirs.example")

    anonymous = await upload(api, theirs, png(), token=None)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    assert (await upload(api, theirs, png(), token="not-a-real-token")).status_code == 401
    assert (await upload(api, theirs, png(), token=other_manager)).status_code == 403
    assert (await api.client.delete(f"/locations/{theirs}/logo", headers=auth(other_manager))).status_code == 403
    assert (await api.client.delete(f"/locations/{theirs}/logo")).status_code == 401
    # Scope is checked before the body is read: an oversized or bogus upload still gets 403.
    assert (await upload(api, theirs, HTML * 100_000, token=other_manager)).status_code == 403
    for unknown in ("999999", "0", "abc", "99999999999999999999"):
        assert (await upload(api, unknown, png())).status_code == 404, unknown
        assert (await served(api, unknown)).status_code == 404
    assert (await served(api, theirs)).content == JPEG  # nothing changed

    assert (await upload(api, mine, png(), token=other_manager)).status_code == 200
    assert (await upload(api, theirs, WEBP, token=own_manager)).status_code == 200
    assert (await served(api, theirs)).content == WEBP


async def test_delete_logo(api):
    location = await new_location(api)
    assert (await served(api, location)).status_code == 404
    await upload(api, location, png())
    deleted = await api.client.delete(f"/locations/{location}/logo", headers=auth(api.owner_token))
    assert deleted.status_code == 204
    missing = await served(api, location)
    assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"
    assert (await branding(api, location))["logoUrl"] is None
    again = await api.client.delete(f"/locations/{location}/logo", headers=auth(api.owner_token))
    assert again.status_code == 204


async def test_logo_urls_in_a_list_of_locations(api):
    with_logo, without = await new_location(api, "A with"), await new_location(api, "B without")
    await upload(api, with_logo, png())
    listing = await api.data(
        "{ locations { ... on LocationConnection { edges { node { id logoUrl backgroundColor } } } } }"
    )
    urls = {edge["node"]["id"]: edge["node"]["logoUrl"] for edge in listing["locations"]["edges"]}
    assert urls[without] is None and urls[with_logo].startswith(
        f"{api.settings.base_url}/locations/{with_logo}/logo?v="
    )
