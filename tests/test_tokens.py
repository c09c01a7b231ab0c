"""Link tokens: derived, stable, one purpose each, replaced by a new generation."""

from core.tokens import derive_token, looks_like_token, new_token, token_hash

SECRET = "s" * 40


def test_derived_tokens_are_stable_per_purpose_object_and_generation():
    token = derive_token(SECRET, "action", 7)
    assert token == derive_token(SECRET, "action", 7) and len(token) == 43 and looks_like_token(token)
    others = {derive_token(SECRET, "action", 8), derive_token(SECRET, "one-time", 7), derive_token(SECRET, "action", 7, 1),
              derive_token("t" * 40, "action", 7)}
    assert token not in others and len(others) == 4


def test_only_hashes_are_stored():
    token = new_token()
    assert token_hash(token) != token and len(token_hash(token)) == 64 and token not in token_hash(token)
    assert token_hash(token) == token_hash(token) and token_hash(token) != token_hash(new_token())
    assert not looks_like_token("short") and not looks_like_token("x" * 43 + "/")
