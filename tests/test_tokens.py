"""Link tokens: derived, stable, one purpose each, replaced by a new generation."""

from core.security.tokens import derive_token, is_derived, looks_like_token, new_token, shown_token, token_hash

SECRET = "s" * 40


def test_derived_tokens_are_stable_per_purpose_object_and_generation():
    token = derive_token(SECRET, "action", 7)
    assert token == derive_token(SECRET, "action", 7) and len(token) == 43 and looks_like_token(token)
    others = {
        derive_token(SECRET, "action", 8),
        derive_token(SECRET, "one-time", 7),
        derive_token(SECRET, "action", 7, 1),
        derive_token("t" * 40, "action", 7),
    }
    assert token not in others and len(others) == 4


def test_only_hashes_are_stored():
    token = new_token()
    assert token_hash(token) != token and len(token_hash(token)) == 64 and token not in token_hash(token)
    assert token_hash(token) == token_hash(token) and token_hash(token) != token_hash(new_token())
    assert not looks_like_token("short") and not looks_like_token("x" * 43 + "/")


def test_a_token_is_shown_again_under_the_key_that_made_it_and_opens_only_while_that_key_is_held():
    old, new = SECRET, "t" * 40
    token = derive_token(old, "action", 7, 2)
    stored = token_hash(token)
    assert shown_token((new, old), stored, "action", 7, 2) == token  # rotated, the old key a fallback
    assert shown_token((new,), stored, "action", 7, 2) is None  # the old key dropped: give it a new token
    assert shown_token((new, old), stored, "action", 7, 3) is None
    assert is_derived((new, old), token, "action", 7, 2) and not is_derived((new,), token, "action", 7, 2)
    assert not is_derived((new, old), token, "action", 8, 2) and not is_derived((old,), "é" * 43, "action", 7, 2)
