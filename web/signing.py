"""The one signing scheme of every value the app signs and hands out: CSRF tokens, session cookies
and plugins' signed links (e.g. the portal's sign-in link).

A signed value is itsdangerous' URL-safe timed serialization of a JSON payload: readable by anyone,
changeable by nobody. Each purpose has its own salt, so a value signed for one purpose never reads
as another. The current key (`Settings.secret_keys[0]`, AGENDUM_SECRET_KEY) signs; every key of
`secret_keys` (the fallbacks too) verifies. Signing times come from `core.clock`; a value may seem
to come up to `CLOCK_SKEW` seconds from the future (several hosts). itsdangerous compares
signatures in constant time.

    token = sign(settings.secret_keys, "agendum.example.v1", {"id": 7})
    payload = unsign(settings.secret_keys, "agendum.example.v1", token, max_age=3600)  # None when bad
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from core import clock

CLOCK_SKEW = 60  # seconds a value may seem to come from the future
MAX_LENGTH = 4096


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer reading the time from `core.clock`."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


@lru_cache(maxsize=32)
def _serializer(keys: tuple[str, ...], salt: str) -> URLSafeTimedSerializer:
    if not keys or not salt:
        raise ValueError("signing needs at least one secret key and a salt")
    return URLSafeTimedSerializer(
        list(reversed(keys)), salt=salt, signer=_ClockSigner
    )  # itsdangerous signs with the last


def sign(keys: Sequence[str], salt: str, payload: Any) -> str:
    """`payload` (JSON-able, not None) signed now with the first of `keys` for the purpose `salt`."""
    return _serializer(tuple(keys), salt).dumps(payload)


def unsign(
    keys: Sequence[str], salt: str, token: object, *, max_age: float | None = None, max_length: int = MAX_LENGTH
) -> Any:
    """The payload of `token` when it was signed for `salt` with one of `keys` at most `max_age`
    seconds ago (any time when None); None when it is not a string, too long, malformed, changed,
    signed for another purpose or with an unknown key, expired, or (with a `max_age`) from further
    than `CLOCK_SKEW` in the future."""
    if not isinstance(token, str) or not token or len(token) > max_length:
        return None
    try:
        payload, signed_at = _serializer(tuple(keys), salt).loads(token, return_timestamp=True)
    except BadData:
        return None
    if max_age is not None and not -CLOCK_SKEW <= (clock.now() - signed_at).total_seconds() <= max_age:
        return None
    return payload
