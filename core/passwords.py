"""Password hashing with argon2, off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationFailed

_hasher = PasswordHasher()
MIN_LENGTH = 10
# Verified when the account is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash("agendum-dummy-password")


def check_strength(field: str, password: str) -> str:
    """Refuse a password that is short, blank or all one character."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(field, f"Use at least {MIN_LENGTH} characters.")
    if len(password) > 1024:
        raise ValidationFailed(field, "At most 1024 characters.")
    if len(set(password)) < 4:
        raise ValidationFailed(field, "Use a less repetitive password.")
    return password


async def hash_password(password: str) -> str:
    """The argon2 hash of a password."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; takes as long when there is no hash to check."""

    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
