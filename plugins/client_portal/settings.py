"""The portal's settings at a location, as staff set them (camelCase keys outside)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from core import validation as check
from core.errors import ValidationCode, ValidationFailed
from core.plugins.setting_problems import SettingInvalid
from core.plugins.types import MultilineText, PluginSettings

NAME = "client_portal"
BOOKED_EVENT = "PORTAL_APPOINTMENT_BOOKED"
CANCELLED_EVENT = "PORTAL_APPOINTMENT_CANCELLED"
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,58}[a-z0-9])$")
MAX_ADDRESSES = 10


def _email(value: str) -> str:
    """One email address of a list (pydantic reports it at its index)."""
    try:
        return check.email("newAppointmentAddresses", value)
    except ValidationFailed as refused:
        raise SettingInvalid(refused.message, refused.code) from None


EmailAddress = Annotated[str, AfterValidator(_email)]


class PortalSettings(PluginSettings):
    """Address, level of access, what the portal shows, and whom it tells about changes."""

    slug: str = Field(
        "", description="The portal's address /portal/{slug}; generated from the location's name when empty."
    )
    allow_booking: bool = True
    allow_cancelling: bool = True
    accept_new_clients: bool = True
    show_prices: bool = True
    booking_instructions: MultilineText = Field("", max_length=2000)
    terms_and_conditions: MultilineText = Field("", max_length=20000)
    notify_on_new_template: str | None = f"default:{BOOKED_EVENT}:STAFF"
    notify_on_cancel_template: str | None = f"default:{CANCELLED_EVENT}:STAFF"
    new_appointment_addresses: list[EmailAddress] = Field(default_factory=list)
    new_appointment_addresses_template: str | None = f"default:{BOOKED_EVENT}:STAFF"

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        slug = value.lower()
        if slug and not SLUG_RE.match(slug):
            raise SettingInvalid(
                "Use 3 to 60 lower-case letters, digits and hyphens, starting and ending with a letter or digit.",
                ValidationCode.INVALID_FORMAT,
            )
        return slug

    @field_validator("new_appointment_addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_ADDRESSES:
            raise SettingInvalid(f"At most {MAX_ADDRESSES} addresses.", ValidationCode.OUT_OF_RANGE)
        return list(dict.fromkeys(value))
