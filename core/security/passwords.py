"""Passwords: the policy a new password must meet, and hashing with argon2, off the event loop.

The policy follows NIST SP 800-63B: at least 10 characters, any characters, no composition rules,
and never a password guessers try first: one on a list of 30,000 common passwords, or one zxcvbn
scores as easy to guess (core/security/strength.py). Only the password and what the caller typed with it
are judged, so the answer never depends on whether an account exists."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationCode, ValidationFailed
from core.security import strength

if TYPE_CHECKING:
    from core.settings import Settings

MIN_LENGTH = 10
MAX_LENGTH = 1024
RULES = f"{MIN_LENGTH} to {MAX_LENGTH} characters; refused when on a list of common passwords or easy to guess."
COMMON = "This password is on a list of common passwords. Choose another."
GUESSABLE = (
    "This password is easy to guess (a common word or name, a keyboard pattern, a sequence, "
    "a date, or your own name or email). Choose a longer one, e.g. a few unrelated words."
)


@functools.cache
def _hashing(profile: str) -> tuple[PasswordHasher, str]:
    """The hasher of an argon2 profile (a name in `argon2.profiles`) and a hash it made, verified
    when the account is unknown so that both answers take as long."""
    hasher = PasswordHasher.from_parameters(getattr(profiles, profile))
    return hasher, hasher.hash("agendum-dummy-password")


def _guessable(password: str, user_inputs: list[str]) -> str | None:
    if strength.is_common(password):
        return COMMON
    if strength.is_guessable(password, user_inputs):
        return GUESSABLE
    return None


def _words(texts: Iterable[str]) -> list[str]:
    """Each text and its runs of 3 or more letters or digits: `ada.lovelace@example.com` gives
    itself, `ada`, `lovelace`, `example` and `com`."""
    return [word for text in map(str, texts) if text for word in (text, *re.findall(r"[^\W_]{3,}", text))]


async def check_strength(field: str, password: str, user_inputs: Iterable[str] = ()) -> str:
    """Refuse (ValidationFailed on `field`) a password that is too short or long, common, or easy
    to guess; `user_inputs` are what a guesser knows of this account (its email, names)."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(field, f"Use at least {MIN_LENGTH} characters.", ValidationCode.TOO_SHORT)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(field, f"At most {MAX_LENGTH} characters.", ValidationCode.TOO_LONG)
    problem = await asyncio.to_thread(_guessable, password, _words(user_inputs))  # zxcvbn takes milliseconds
    if problem:
        raise ValidationFailed(field, problem, ValidationCode.WEAK_PASSWORD)
    return password


async def hash_password(password: str, settings: Settings) -> str:
    """The argon2 hash of a password, at the cost of `settings.password_hash_profile`."""
    hasher, _ = _hashing(settings.password_hash_profile)
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str, settings: Settings) -> bool:
    """True when the password matches (at the cost the hash was made with, whatever the settings
    say now); takes as long when there is no hash to check."""
    hasher, dummy = _hashing(settings.password_hash_profile)

    def verify() -> bool:
        try:
            return hasher.verify(password_hash or dummy, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
