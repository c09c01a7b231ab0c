"""Stateless CSRF tokens for the POST forms of customer pages.

A token is `<issued-at>.<HMAC(secret, binding, issued-at)>`, bound to a string the page already
has: the link token in its URL, or the session id of a signed-in customer. Nothing is stored; a
token is valid for `CSRF_MAX_AGE` seconds and only with the binding it was made for. A page puts it
in a hidden field named `CSRF_FIELD`; the POST handler checks it before doing anything. Tokens
are made with the current secret key and accepted from any held key (AGENDUM_SECRET_KEY_FALLBACKS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 2 * 60 * 60
CLOCK_SKEW = 60  # seconds a token may seem to come from the future (several hosts)
_PURPOSE = b"agendum:csrf:v1"


def _key(secret: str | bytes) -> bytes:
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, _PURPOSE, hashlib.sha256).digest()


def _mac(secret: str | bytes, binding: str, issued: int) -> str:
    message = f"{len(binding)}:{binding}:{issued}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(secret: str | bytes, binding: str, *, now: float | None = None) -> str:
    """A token for forms of the page bound to `binding` (a link token or a session id)."""
    if not binding:
        raise ValueError("a CSRF token needs a binding (a link token or a session id)")
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_mac(secret, binding, issued)}"


def valid_csrf(
    secret: str | bytes | Sequence[str | bytes], binding: str, token: object, *, max_age: float = CSRF_MAX_AGE,
    now: float | None = None,
) -> bool:
    """True when `token` was made by `csrf_token(key, binding)` less than `max_age` seconds ago, with
    `secret` or one of a sequence of keys. Any other binding, an expired, forged or malformed token
    (or a non-string) is False."""
    if not binding or not isinstance(token, str) or len(token) > 100:
        return False
    issued_text, dot, mac = token.partition(".")
    if not dot or not issued_text.isdigit() or not issued_text.isascii() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    current = time.time() if now is None else now
    if not current - max_age <= issued <= current + CLOCK_SKEW:
        return False
    keys = (secret,) if isinstance(secret, (str, bytes)) else secret
    return any(hmac.compare_digest(mac.encode(), _mac(key, binding, issued).encode()) for key in keys)


def page_csrf_token(request, binding: str) -> str:
    """`csrf_token` with the app's secret key, for a page being rendered."""
    return csrf_token(request.app.state.settings.secret_key, binding)


async def valid_form_csrf(request, binding: str) -> bool:
    """True when the POSTed form carries a valid CSRF token for `binding` (reads the form)."""
    form = await request.form()
    return valid_csrf(request.app.state.settings.secret_keys, binding, form.get(CSRF_FIELD))
