"""One signing scheme (web/signing.py) for CSRF tokens, session cookies and the portal's sign-in
links: one salt per purpose, so a value signed for one is refused as another; the current key
signs, fallback keys verify, unknown keys are refused; the app's clock judges age."""

from __future__ import annotations

import itertools

import pytest
from test_web_sessions import client, cookie_of, make_app, me

from plugins.client_portal.signin_links import SALT as SIGN_IN
from web import csrf, sessions
from web.signing import CLOCK_SKEW, sign, unsign

OLD = "old-key-0123456789abcdefghijklmnopqrstuvwxyz"
NEW = "new-key-0123456789abcdefghijklmnopqrstuvwxyz"
PURPOSES = {"csrf": csrf.SALT, "session": sessions.SALT, "sign-in": SIGN_IN}
PAYLOAD = {"id": "abc", "data": {"portal": 1}}


def test_each_purpose_has_its_own_salt_and_refuses_the_others_tokens():
    assert len(set(PURPOSES.values())) == len(PURPOSES)
    for signed_for, read_as in itertools.permutations(PURPOSES.values(), 2):
        token = sign((NEW,), signed_for, PAYLOAD)
        assert unsign((NEW,), signed_for, token) == PAYLOAD
        assert unsign((NEW,), read_as, token) is None, (signed_for, read_as)


def test_a_csrf_tokens_payload_signed_for_another_purpose_is_no_csrf_token():
    token = csrf.csrf_token(NEW, "link-token")
    bound = unsign((NEW,), csrf.SALT, token)
    for other in (sessions.SALT, SIGN_IN):
        assert not csrf.valid_csrf(NEW, "link-token", sign((NEW,), other, bound))
    assert csrf.valid_csrf(NEW, "link-token", sign((NEW,), csrf.SALT, bound))


async def test_a_session_shaped_value_signed_for_another_purpose_is_no_session():
    async with client(make_app(secret=NEW)) as http:
        real, _ = cookie_of(await http.post("/in"))
        payload = unsign((NEW,), sessions.SALT, real)
        assert await me(http, sign((NEW,), sessions.SALT, payload)) == payload
        for other in (csrf.SALT, SIGN_IN):
            assert await me(http, sign((NEW,), other, payload)) is None
        assert await me(http, csrf.csrf_token(NEW, payload["id"])) is None


def test_fallback_keys_verify_unknown_keys_do_not_and_the_first_key_signs():
    for salt in PURPOSES.values():
        old = sign((OLD,), salt, PAYLOAD)
        assert unsign((NEW, OLD), salt, old) == PAYLOAD
        assert unsign((NEW,), salt, old) is None
        new = sign((NEW, OLD), salt, PAYLOAD)
        assert unsign((NEW,), salt, new) == PAYLOAD
        assert unsign((OLD,), salt, new) is None
    assert csrf.valid_csrf((NEW, OLD), "link", csrf.csrf_token(OLD, "link"))
    assert not csrf.valid_csrf((NEW,), "link", csrf.csrf_token(OLD, "link"))


def test_tampered_malformed_and_oversized_tokens_are_refused():
    token = sign((NEW,), sessions.SALT, PAYLOAD)
    payload, stamp, signature = token.split(".")
    for bad in (
        # the signature's first character (every bit counts; the last one's low bits may be padding)
        f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        f"{payload}x.{stamp}.{signature}",
        f"{payload}.{stamp}",
        f"{payload}..{signature}",
        f"{payload}.!!.{signature}",
        token + ".",
        "",
        ".",
        "..",
        "a.b.c",
        "é" * 10,
        None,
        42,
        b"bytes",
        [token],
    ):
        assert unsign((NEW,), sessions.SALT, bad) is None, bad
    assert unsign((NEW,), sessions.SALT, token, max_length=len(token) - 1) is None
    assert unsign((NEW,), sessions.SALT, token, max_length=len(token)) == PAYLOAD


def test_age_is_judged_by_the_app_clock_with_some_skew_for_other_hosts(advance_clock):
    token = sign((NEW,), csrf.SALT, "x")
    advance_clock(100)
    assert unsign((NEW,), csrf.SALT, token, max_age=102) == "x"
    assert unsign((NEW,), csrf.SALT, token, max_age=99) is None
    assert unsign((NEW,), csrf.SALT, token) == "x"  # no max_age: any age (the payload carries its own expiry)
    ahead = sign((NEW,), csrf.SALT, "x")
    advance_clock(-CLOCK_SKEW + 2)
    assert unsign((NEW,), csrf.SALT, ahead, max_age=10) == "x"  # signed by a host a little ahead
    advance_clock(-4)
    assert unsign((NEW,), csrf.SALT, ahead, max_age=10) is None


def test_signing_needs_a_key_and_a_purpose():
    with pytest.raises(ValueError):
        sign((), sessions.SALT, PAYLOAD)
    with pytest.raises(ValueError):
        sign((NEW,), "", PAYLOAD)
