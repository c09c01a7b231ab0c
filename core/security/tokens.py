"""Secret tokens: 256 bits, URL-safe; only their SHA-256 is ever stored.

Link tokens must be shown again (in a later email, in staff lists) yet never be readable from
the database, so they are derived: HMAC(secret key, purpose, object id, generation). Storing
only the hash keeps lookups fast; bumping the generation replaces a token (the old one becomes
unknown).

Key rotation (`Settings.secret_keys`: the current key, then AGENDUM_SECRET_KEY_FALLBACKS): a new
object or generation gets its token from the current key. An object keeps the token it was made
with, shown again under the same key (`shown_token`) as long as that key is held, so every link
already emailed keeps working and its stored hash stays right. A token opens its object only when
one of the held keys derives it (`is_derived`): once its key is dropped, it stops working, and
the object is given a token of the current key the next time it is shown."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 (hex) of `value` under the secret key, for one purpose: a stable name for a value
    that reveals nothing without the key (rate-limit keys in Redis name tokens and emails)."""
    message = f"agendum-{purpose}:{value}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def derive_token(secret: str, purpose: str, object_id: int | str, generation: int = 0) -> str:
    """The link token of an object for one purpose and generation (43 URL-safe characters)."""
    if ":" in purpose:
        raise ValueError("a purpose may not contain ':'")
    message = f"agendum-link:{purpose}:{object_id}:{generation}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def shown_token(
    keys: Sequence[str], stored_hash: str, purpose: str, object_id: int | str, generation: int = 0
) -> str | None:
    """The object's token whose hash is stored, derived again under whichever of `keys` made it;
    None when none of them did (its key was dropped: give the object a token of `keys[0]`)."""
    for key in keys:
        token = derive_token(key, purpose, object_id, generation)
        if hmac.compare_digest(token_hash(token), stored_hash):
            return token
    return None


def is_derived(keys: Sequence[str], token: str, purpose: str, object_id: int | str, generation: int = 0) -> bool:
    """True when one of `keys` derives `token` for this object, purpose and generation."""
    given = token.encode("utf-8", "surrogatepass")
    return any(hmac.compare_digest(derive_token(key, purpose, object_id, generation).encode(), given) for key in keys)


def looks_like_token(value: str) -> bool:
    """True for a string of the shape of our tokens (cheap filter before any lookup)."""
    return 40 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)
