"""Sealed values: secrets the app must read back later (a random link token to email again, a
webhook's signing secret) yet nobody reading the database may, kept encrypted and authenticated
with Fernet (the `cryptography` package) under the app's secret key.

Each secret key gives one Fernet key per purpose (HKDF-SHA256, info `agendum.sealed:<purpose>`),
so a value sealed for one purpose never opens as another's. The current key seals; every held
key (AGENDUM_SECRET_KEY_FALLBACKS too) unseals, so what was sealed before a key rotation stays
readable as long as its key is held (Fernet's MultiFernet).

    token = seal(settings, "https://example.com/portal/x/password/abc", purpose="email-link")
    unseal(settings, token, purpose="email-link")  # the text again; CannotUnseal when forged or its key is gone
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEFAULT_PURPOSE = "sealed"


class CannotUnseal(ValueError):
    """The value was not sealed by a held key for this purpose, or it was changed."""


def _fernet_key(secret: str, purpose: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"agendum.sealed:{purpose}".encode())
    return base64.urlsafe_b64encode(derived.derive(secret.encode("utf-8", "surrogatepass")))


@lru_cache(maxsize=16)
def _fernet(keys: tuple[str, ...], purpose: str) -> MultiFernet:
    if not keys or not all(keys):
        raise ValueError("sealing needs the secret key (AGENDUM_SECRET_KEY)")
    return MultiFernet([Fernet(_fernet_key(key, purpose)) for key in keys])


def seal(settings, text: str, purpose: str = DEFAULT_PURPOSE) -> str:
    """`text` encrypted and authenticated under the current secret key (URL-safe ASCII)."""
    return _fernet(settings.secret_keys, purpose).encrypt(text.encode()).decode("ascii")


def unseal(settings, token: str, purpose: str = DEFAULT_PURPOSE) -> str:
    """The text sealed in `token` by any held key for this purpose; `CannotUnseal` otherwise."""
    try:
        return _fernet(settings.secret_keys, purpose).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, TypeError, AttributeError):
        raise CannotUnseal("this sealed value cannot be read with the secret keys held") from None
