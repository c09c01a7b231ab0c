"""Stateless CSRF tokens for the POST forms of customer pages.

A token is signed by web/signing.py (salt `SALT`) over a digest of a string the page already has:
the link token in its URL, or the session id of a signed-in customer; the binding itself never
appears in the page. Nothing is stored; a token is valid for `CSRF_MAX_AGE` seconds and only with
the binding it was made for. A page puts it in a hidden field named `CSRF_FIELD`; the POST handler
checks it before doing anything. Tokens are made with the current secret key and accepted from any
held key (AGENDUM_SECRET_KEY_FALLBACKS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from web.signing import sign, unsign

CSRF_FIELD = "csrf_token"
CSRF_MAX_AGE = 2 * 60 * 60
MAX_TOKEN = 100
SALT = "agendum.csrf.v1"


def _keys(secret: str | Sequence[str]) -> tuple[str, ...]:
    return (secret,) if isinstance(secret, str) else tuple(secret)


def _digest(binding: str) -> str:
    digest = hashlib.sha256(binding.encode("utf-8", "surrogatepass")).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(secret: str | Sequence[str], binding: str) -> str:
    """A token for forms of the page bound to `binding` (a link token or a session id), signed with
    `secret` (or the first of a sequence of keys)."""
    if not binding:
        raise ValueError("a CSRF token needs a binding (a link token or a session id)")
    return sign(_keys(secret), SALT, _digest(binding))


def valid_csrf(secret: str | Sequence[str], binding: str, token: object, *, max_age: float = CSRF_MAX_AGE) -> bool:
    """True when `token` was made by `csrf_token(key, binding)` less than `max_age` seconds ago, with
    `secret` or one of a sequence of keys. Any other binding, an expired, forged or malformed token
    (or a non-string) is False."""
    if not binding:
        return False
    bound = unsign(_keys(secret), SALT, token, max_age=max_age, max_length=MAX_TOKEN)
    return isinstance(bound, str) and hmac.compare_digest(bound.encode(), _digest(binding).encode())


def page_csrf_token(request, binding: str) -> str:
    """`csrf_token` with the app's secret key, for a page being rendered."""
    return csrf_token(request.app.state.settings.secret_key, binding)


async def valid_form_csrf(request, binding: str) -> bool:
    """True when the POSTed form carries a valid CSRF token for `binding` (reads the form)."""
    form = await request.form()
    return valid_csrf(request.app.state.settings.secret_keys, binding, form.get(CSRF_FIELD))
