"""Signed-cookie sessions for customer pages (e.g. the client portal's sign-in).

The cookie holds the session's data signed (not encrypted) by web/signing.py (salt `SALT`), with
the time it was written: anyone can read it, nobody can change it. Cookies
signed with a fallback key (AGENDUM_SECRET_KEY_FALLBACKS) still read; new ones use the current key. It is
HttpOnly, SameSite=Lax, path `/` (so `/graphql` sees it), Secure when AGENDUM_BASE_URL is https,
and expires after `SESSION_MAX_AGE`. A changed, foreign or expired cookie reads as no session.

Every session has a random `id`, which CSRF tokens of signed-in pages bind to (web/csrf.py). Start
a `new_session()` on sign-in (never keep the id a visitor had before), and keep only small values
in `data`: the cookie carries all of it on every request.

    session = read_session(request)          # None when signed out
    response = RedirectResponse(...)
    write_session(response, request, new_session({"account": account.id}))
    clear_session(response, request)         # sign out
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from web.signing import sign, unsign

COOKIE_NAME = "agendum_session"
SESSION_MAX_AGE = 14 * 24 * 60 * 60
MAX_COOKIE_BYTES = 3800  # browsers keep about 4 KB per cookie, name and attributes included
SALT = "agendum.session.v1"


@dataclass
class Session:
    """One visitor's session: a random id and small JSON-able data."""

    id: str
    data: dict[str, Any] = field(default_factory=dict)


def new_session(data: dict[str, Any] | None = None) -> Session:
    """A session with a fresh random id (start one on every sign-in)."""
    return Session(id=secrets.token_urlsafe(32), data=dict(data or {}))


def _settings(request: Request):
    return request.app.state.settings


def read_session(request: Request, *, max_age: int = SESSION_MAX_AGE) -> Session | None:
    """The request's session, or None when there is no cookie or it is changed, foreign or expired."""
    cookie = request.cookies.get(COOKIE_NAME)
    payload = unsign(_settings(request).secret_keys, SALT, cookie, max_age=max_age, max_length=MAX_COOKIE_BYTES)
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("id"), str)
        or not isinstance(payload.get("data"), dict)
    ):
        return None
    return Session(id=payload["id"], data=payload["data"])


def _cookie_attributes(request: Request) -> dict[str, Any]:
    return {
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": _settings(request).base_url.lower().startswith("https://"),
    }


def write_session(response: Response, request: Request, session: Session, *, max_age: int = SESSION_MAX_AGE) -> None:
    """Set the session cookie on `response` (signed now, so it lasts `max_age` from now)."""
    value = sign(_settings(request).secret_keys, SALT, {"id": session.id, "data": session.data})
    if len(value) > MAX_COOKIE_BYTES:
        raise ValueError(f"session data too large for a cookie ({len(value)} bytes signed)")
    response.set_cookie(COOKIE_NAME, value, max_age=max_age, **_cookie_attributes(request))


def clear_session(response: Response, request: Request) -> None:
    """Remove the session cookie (sign out)."""
    response.delete_cookie(COOKIE_NAME, **_cookie_attributes(request))
