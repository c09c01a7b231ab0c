"""Stateless CSRF tokens (web/csrf.py): bound to a link token or session id, expiring, unforgeable."""

from __future__ import annotations

import pytest
from itsdangerous.encoding import base64_decode, base64_encode, bytes_to_int, int_to_bytes

from web.csrf import CSRF_MAX_AGE, csrf_token, valid_csrf

SECRET = "csrf-test-secret-0123456789abcdefghijklmnop"
LINK = "Xy3_link-token-in-the-url"


def test_a_token_is_valid_for_its_binding():
    token = csrf_token(SECRET, LINK)
    assert valid_csrf(SECRET, LINK, token)
    assert valid_csrf(SECRET, LINK, token)  # stateless: the page may be submitted again (e.g. after a refusal)


def test_other_binding_or_other_secret_is_refused():
    token = csrf_token(SECRET, LINK)
    assert not valid_csrf(SECRET, LINK + "x", token)
    assert not valid_csrf(SECRET, "session-id-of-someone", token)
    assert not valid_csrf(SECRET.replace("0", "1"), LINK, token)
    # The binding is length-prefixed: moving characters between binding and timestamp forges nothing.
    issued, _, mac = token.partition(".")
    assert not valid_csrf(SECRET, LINK + issued[:1], f"{issued[1:]}.{mac}", max_age=10**12)


def test_forged_and_malformed_tokens_are_refused():
    token = csrf_token(SECRET, LINK)
    issued, _, mac = token.partition(".")
    # Change the signature's first character: all of its bits count (the last one's low bits may
    # be padding, so changing it can leave the decoded signature as it was).
    stamp_part, _, signature_part = mac.rpartition(".")
    flipped = f"{stamp_part}.{'A' if signature_part[0] != 'A' else 'B'}{signature_part[1:]}"
    bound, stamp, signature = token.split(".")
    later = base64_encode(int_to_bytes(bytes_to_int(base64_decode(stamp)) + 1)).decode()
    for forged in (
        f"{issued}.{flipped}",  # one character of the MAC changed
        f"{bound}.{later}.{signature}",  # a later issue time with the old MAC
        f"{issued}.",
        f".{mac}",
        issued,
        mac,
        "",  # pieces
        f"-{issued}.{mac}",
        f"{issued}.{mac}.x",
        f"{issued} .{mac}",
        f"١٢٣.{mac}",  # non-ASCII digits
        "x" * 5000,
        None,
        123,
        b"bytes",
        ["list"],
    ):
        assert not valid_csrf(SECRET, LINK, forged), forged


def test_expired_and_future_tokens_are_refused(advance_clock):
    """By the app's clock (core.clock), like every other expiry."""
    future = csrf_token(SECRET, LINK)
    old = csrf_token(SECRET, LINK)
    advance_clock(-3600)
    assert not valid_csrf(SECRET, LINK, future)  # made on a host an hour ahead
    advance_clock(3600 + 30)
    almost = csrf_token(SECRET, LINK)
    advance_clock(CSRF_MAX_AGE - 30 + 1)
    assert not valid_csrf(SECRET, LINK, old)
    assert valid_csrf(SECRET, LINK, almost)
    assert not valid_csrf(SECRET, LINK, almost, max_age=60)


def test_a_token_needs_a_binding():
    with pytest.raises(ValueError):
        csrf_token(SECRET, "")
    assert not valid_csrf(SECRET, "", csrf_token(SECRET, LINK))


def test_tokens_are_url_and_form_safe():
    token = csrf_token(SECRET, "any binding with spaces & symbols <>")
    assert all(c.isalnum() or c in "._-" for c in token)
