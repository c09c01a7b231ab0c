"""Secret tokens: 256 bits, URL-safe; only their SHA-256 is ever stored.

Link tokens must be shown again (in a later email, in staff lists) yet never be readable from
the database, so they are derived: HMAC(secret key, purpose, object id, generation). Storing
only the hash keeps lookups fast; bumping the generation replaces a token (the old one becomes
unknown)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def derive_token(secret: str, purpose: str, object_id: int | str, generation: int = 0) -> str:
    """The link token of an object for one purpose and generation (43 URL-safe characters)."""
    if ":" in purpose:
        raise ValueError("a purpose may not contain ':'")
    message = f"agendum-link:{purpose}:{object_id}:{generation}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def looks_like_token(value: str) -> bool:
    """True for a string of the shape of our tokens (cheap filter before any lookup)."""
    return 40 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)
