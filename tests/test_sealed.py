"""Sealed values (core.security.sealed): encrypted under the secret key, readable with any held key and for
their own purpose only; a changed value, another key or another purpose cannot read them."""

from __future__ import annotations

import pytest

from core.security.sealed import CannotUnseal, seal, unseal
from core.settings import Settings

OLD = "0dRk3v5Qd2R2nqf4iVY_1zJxq0XyWn9ZtB7cLmP8sKjH4eGuA6oT3wYbN5vF1aDr"
NEW = "pQ7xV2mL9kR4tW8zN1cB6yH3jF5gD0sA_eUiOoTqYrXwEvCbMnZlKaJhGfSdPuIy"
SECRET_URL = "https://clinic.example/portal/riverside/password/Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh_"


def test_a_sealed_value_reads_back_and_holds_no_trace_of_the_text():
    settings = Settings(secret_key=NEW)
    token = seal(settings, SECRET_URL)
    assert unseal(settings, token) == SECRET_URL
    assert "password" not in token and "Ab3dEf6" not in token and token.isascii()
    assert seal(settings, SECRET_URL) != token  # a fresh IV each time: equal texts do not show as equal


def test_rotation_keeps_old_values_readable_while_the_old_key_is_a_fallback():
    before = seal(Settings(secret_key=OLD), SECRET_URL)
    rotated = Settings(secret_key=NEW, secret_key_fallbacks=(OLD,))
    assert unseal(rotated, before) == SECRET_URL
    assert unseal(Settings(secret_key=NEW), seal(rotated, "new")) == "new"  # new values use the new key
    with pytest.raises(CannotUnseal):
        unseal(Settings(secret_key=NEW), before)  # the old key dropped


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:],
        lambda token: token[:20],
        lambda token: "not a sealed value",
        lambda token: token + "é",
    ],
)
def test_a_changed_or_foreign_value_cannot_be_read(tamper):
    settings = Settings(secret_key=NEW)
    with pytest.raises(CannotUnseal):
        unseal(settings, tamper(seal(settings, SECRET_URL)))


def test_a_value_sealed_for_one_purpose_does_not_open_as_another():
    settings = Settings(secret_key=NEW)
    token = seal(settings, "webhook secret", purpose="webhook")
    assert unseal(settings, token, purpose="webhook") == "webhook secret"
    with pytest.raises(CannotUnseal):
        unseal(settings, token, purpose="email-link")


def test_sealing_without_a_secret_key_is_refused():
    with pytest.raises(ValueError, match="AGENDUM_SECRET_KEY"):
        seal(Settings(), "x")
