"""AGENDUM_SECRET_KEY and AGENDUM_SECRET_KEY_FALLBACKS: what counts as strong enough, how the
fallbacks are read, and the list of keys every signer and verifier uses."""

from __future__ import annotations

import secrets

import pytest
from conftest import TEST_SECRET

from core.security.strength import secret_bits
from core.settings import DEMO_SECRET, Settings, SettingsError

WEAK = [
    "a" * 40,
    " " * 40,
    "0123456789" * 4,
    "abcdefghijklmnopqrstuvwxyz012345",
    "changeme" * 5,
    "qwertyuiopasdfghjklzxcvbnm1234567890",
    "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
]


@pytest.mark.parametrize("key", WEAK)
def test_keys_of_repeats_sequences_and_words_are_refused(key):
    assert len(key) >= 32 and secret_bits(key) < 128
    with pytest.raises(SettingsError, match=r"^AGENDUM_SECRET_KEY is too weak: .*secrets\.token_urlsafe\(48\)"):
        Settings(secret_key=key).with_secret_key()


def test_random_keys_pass():
    for _ in range(20):
        for key in (secrets.token_urlsafe(48), secrets.token_urlsafe(32), secrets.token_hex(32)):
            assert Settings(secret_key=key).with_secret_key().secret_key == key
    assert Settings(secret_key=TEST_SECRET).with_secret_key().secret_keys == (TEST_SECRET,)


def test_demo_mode_keeps_its_built_in_key_which_is_refused_elsewhere():
    assert Settings(demo=True).with_secret_key().secret_key == DEMO_SECRET
    with pytest.raises(SettingsError, match="too weak"):
        Settings(secret_key=DEMO_SECRET).with_secret_key()


def test_fallbacks_are_read_comma_separated_and_come_after_the_current_key():
    old, older = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    env = {"AGENDUM_SECRET_KEY": TEST_SECRET, "AGENDUM_SECRET_KEY_FALLBACKS": f" {old}, ,{older},{TEST_SECRET}"}
    settings = Settings.from_env(env).with_secret_key()
    assert settings.secret_key_fallbacks == (old, older, TEST_SECRET)
    assert settings.secret_keys == (TEST_SECRET, old, older)
    assert Settings.from_env({"AGENDUM_SECRET_KEY": TEST_SECRET}).secret_keys == (TEST_SECRET,)


@pytest.mark.parametrize("fallback", ["x" * 31, "a" * 40, DEMO_SECRET])
def test_a_fallback_key_must_be_as_strong_as_the_key(fallback):
    # A fallback verifies links, cookies and forms: whoever can guess it can forge them.
    with pytest.raises(SettingsError, match=r"^AGENDUM_SECRET_KEY_FALLBACKS \(key 2\) is too weak") as refused:
        Settings(secret_key=TEST_SECRET, secret_key_fallbacks=(secrets.token_urlsafe(48), fallback)).with_secret_key()
    assert fallback not in str(refused.value)
