"""The cost of password hashes is a setting (argon2 profile): production keeps RFC 9106's
low-memory profile, the test kit hashes with the cheapest; a hash verifies at the cost it was made with."""

from __future__ import annotations

from argon2 import extract_parameters, profiles

from agendum_testing.server import make_settings
from core.security.passwords import hash_password, verify_password
from core.settings import Settings


async def test_production_hashes_at_full_cost_and_the_kit_cheaply():
    full, cheap = Settings(), make_settings("sqlite://:memory:")
    assert extract_parameters(await hash_password("correct horse battery", full)) == profiles.RFC_9106_LOW_MEMORY
    made_cheaply = await hash_password("correct horse battery", cheap)
    assert extract_parameters(made_cheaply) == profiles.CHEAPEST
    assert await verify_password(made_cheaply, "correct horse battery", full)
    assert not await verify_password(made_cheaply, "wrong horse battery", full)


async def test_a_full_cost_hash_still_verifies_under_cheap_settings():
    made = await hash_password("correct horse battery", Settings())
    cheap = make_settings("sqlite://:memory:")
    assert await verify_password(made, "correct horse battery", cheap)
    assert not await verify_password(made, "wrong", cheap)
    assert not await verify_password(None, "correct horse battery", cheap)
