"""Branding of customer pages: a location's background colour and logo, and the text colour that
reads on it. A branch sharing its headquarters' settings shows the headquarters' branding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from core.colors import COLOR_RE, DARK_TEXT, DEFAULT_BACKGROUND, text_color_for
from core.errors import ValidationCode, ValidationFailed
from core.locations import get_location, settings_source
from core.models import Location, LocationLogo
from core.security.access import Staff

MAX_LOGO_BYTES = 512 * 1024
SHARED = "This location uses its headquarters' settings; change the branding there."


class UnsupportedImage(ValidationFailed):
    """The upload is not a PNG, JPEG or WebP image (judged by its content, not its name)."""

    def __init__(self) -> None:
        super().__init__("logo", "The logo must be a PNG, JPEG or WebP image.")


class ImageTooLarge(ValidationFailed):
    """The upload is larger than `MAX_LOGO_BYTES`."""

    def __init__(self, limit: int = MAX_LOGO_BYTES) -> None:
        super().__init__("logo", f"The logo must be at most {limit // 1024} KB.")
        self.limit = limit


# ------------------------------------------------------------------ logos


def sniff_image(data: bytes) -> str | None:
    """The content type of a PNG, JPEG or WebP image judged by its first bytes, else None.

    Names and declared types are never trusted: an HTML or SVG file called `logo.png` is refused."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return "image/png"
    if len(data) > 3 and data[:3] == b"\xff\xd8\xff" and data[3] in range(0xC0, 0x100):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
        return "image/webp"
    return None


def check_logo(data: bytes, limit: int = MAX_LOGO_BYTES) -> str:
    """The content type of an acceptable logo; `ImageTooLarge` or `UnsupportedImage` otherwise."""
    if len(data) > limit:
        raise ImageTooLarge(limit)
    content_type = sniff_image(data)
    if content_type is None:
        raise UnsupportedImage()
    return content_type


def logo_path(location_id: int, version: dt.datetime | None = None) -> str:
    """The public address of a location's logo (served by web/branding.py); the version makes a
    changed logo a new URL, so caches never show the old one."""
    path = f"/locations/{location_id}/logo"
    return f"{path}?v={round(version.timestamp() * 1_000_000)}" if version is not None else path


def logo_path_of(location: Location) -> str | None:
    """The versioned address of a location's own logo, None when it has none (no query: the
    version is on the location row)."""
    return logo_path(location.id, location.logo_version) if location.logo_version is not None else None


async def brandable_location(actor: Staff | None, location_id: int) -> Location:
    """The location, if the caller may change its branding: in scope (`NotFound`,
    `PermissionDenied`) and not a branch using its headquarters' settings (`ValidationFailed`)."""
    location = await get_location(actor, location_id)
    if location.shares_headquarters_settings and location.headquarters_id:
        raise ValidationFailed("locationId", SHARED, ValidationCode.NOT_EDITABLE)
    return location


async def set_logo(actor: Staff | None, location_id: int, data: bytes) -> LocationLogo:
    """Replace a location's logo (staff in scope; not a branch sharing its headquarters' settings)
    and its version on the location row. Nothing changes when the image is refused."""
    location = await brandable_location(actor, location_id)
    content_type = check_logo(data)
    async with in_transaction():
        # The location row is written first: concurrent uploads to one location take turns there.
        await Location.filter(id=location.id).update(logo_version=None)
        logo = await LocationLogo.get_or_none(location_id=location.id) or LocationLogo(location_id=location.id)
        logo.content_type, logo.data = content_type, data
        await logo.save()  # stamps updated_at
        await Location.filter(id=location.id).update(logo_version=logo.updated_at)
    return logo


async def delete_logo(actor: Staff | None, location_id: int) -> bool:
    """Remove a location's logo; False when it had none."""
    location = await brandable_location(actor, location_id)
    async with in_transaction():
        await Location.filter(id=location.id).update(logo_version=None)
        return bool(await LocationLogo.filter(location_id=location.id).delete())


async def public_logo(location_id: int) -> LocationLogo | None:
    """The logo to serve at `logo_path(location_id)` (public: it appears on customer pages)."""
    return await LocationLogo.get_or_none(location_id=location_id)


# ------------------------------------------------------------------ what a page shows


@dataclass(frozen=True)
class Branding:
    """How a customer page looks: the location's name, colours and logo address, page language."""

    name: str = ""
    background_color: str = DEFAULT_BACKGROUND
    text_color: str = DARK_TEXT
    logo_url: str | None = None
    lang: str = "en"

    @classmethod
    def neutral(cls) -> Branding:
        """No location: pages that must not reveal which location (if any) a link belongs to."""
        return cls(background_color="#f3f4f6")


def lang_of(locale: str) -> str:
    """The HTML `lang` of a locale identifier (`en_GB` -> `en-GB`)."""
    return (locale or "en").replace("_", "-")


async def branding_of(location: Location) -> Branding:
    """A location's branding: its own name and language; colour and logo from its settings source
    (the headquarters when it shares its settings)."""
    source = await settings_source(location)
    background = source.background_color if COLOR_RE.match(source.background_color or "") else DEFAULT_BACKGROUND
    return Branding(
        name=location.name,
        background_color=background.lower(),
        text_color=text_color_for(background),
        logo_url=logo_path_of(source),
        lang=lang_of(location.locale),
    )
