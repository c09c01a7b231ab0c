"""Demo data for `agendum serve --demo`: a clinic with calendars, rosters, services and customers,
and the installed plugins enabled there."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.models import Calendar, Customer, Location, RosterRule, Service, StaffRole, Tier
from core.plugins import marketplace
from core.security.access import Staff
from core.security.accounts import create_admin

if TYPE_CHECKING:
    from core.agendum import Agendum

DEMO_EMAIL = "demo@agendum.local"
WEEKDAY_HOURS = [(9 * 60, 12 * 60), (13 * 60, 17 * 60)]


async def seed_demo(app: Agendum) -> str:
    """Create the demo location once (idempotent), with every plugin installed in `app` that its
    tier allows enabled, and return a fresh owner token."""
    issued = await create_admin(DEMO_EMAIL, "demo-password-123", app.settings)
    if not await Location.filter(name="Riverside Clinic").exists():
        clinic = await _create_clinic()
        owner = Staff(issued.user.id, StaffRole.OWNER)
        host = app.plugins
        for name, info in host.infos.items():
            if clinic.tier in info.tiers and not info.missing_settings(info.settings_from(None)):
                await marketplace.set_enabled(host, owner, [clinic.id], name, True)
    return issued.token


async def _create_clinic() -> Location:
    clinic = await Location.create(
        name="Riverside Clinic",
        timezone="Europe/London",
        currency="GBP",
        locale="en_GB",
        contact_email="hello@riverside.example",
        contact_phone="+44 20 7946 0000",
        tier=Tier.GOLD,
    )
    calendars = [
        await Calendar.create(location=clinic, name=name, owner_name=owner, owner_email=email, owner_phone=phone)
        for name, owner, email, phone in (
            ("Dr Ada Patel", "Ada Patel", "ada@riverside.example", "+44 7700 900001"),
            ("Dr Ben Okafor", "Ben Okafor", "ben@riverside.example", "+44 7700 900002"),
            ("Treatment Room", "Front Desk", "desk@riverside.example", "+44 20 7946 0000"),
        )
    ]
    await RosterRule.bulk_create(
        [
            RosterRule(calendar=calendar, weekday=day, start_minute=start, end_minute=end)
            for calendar in calendars
            for day in range(5)
            for start, end in WEEKDAY_HOURS
        ]
        + [RosterRule(calendar=calendars[0], weekday=5, start_minute=10 * 60, end_minute=13 * 60)]
    )
    for name, minutes, price, buffer in (
        ("Consultation", 30, "60.00", 5),
        ("Follow-up", 15, "35.00", 0),
        ("Physiotherapy session", 45, "75.00", 15),
    ):
        service = await Service.create(
            location=clinic, name=name, duration_minutes=minutes, price=Decimal(price), buffer_after_minutes=buffer
        )
        await service.calendars.add(*calendars)
    for first, last, email, phone in (
        ("Grace", "Hopper", "grace@example.com", "+44 7700 900101"),
        ("Alan", "Turing", "alan@example.com", "+44 7700 900102"),
        ("Katherine", "Johnson", "katherine@example.com", "+44 7700 900103"),
    ):
        await Customer.create(
            location=clinic, first_name=first, last_name=last, email=email, email_key=email.lower(), mobile_phone=phone
        )
    return clinic
