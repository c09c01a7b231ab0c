"""How hard a password or a secret key is to guess, as zxcvbn estimates it.

zxcvbn finds what guessers try first (repeats, sequences, keyboard runs, dates, dictionary words,
names, and its list of 30,000 common passwords) and counts the guesses each part needs. A
password must be off that list and score 3 or more (at least 10^8 guesses); a secret key must be
worth 128 bits, counting zxcvbn's guesses for the patterns it finds and, for the random rest,
log2 of the alphabet the key draws from per character.

zxcvbn keeps the caller's own words (`user_inputs`) in a module global, so calls take a lock."""

from __future__ import annotations

import math
import string
import threading
from collections.abc import Iterable
from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.matching import RANKED_DICTIONARIES

MIN_SCORE = 3
ZXCVBN_MAX = 64  # characters zxcvbn looks at in one call (its limit is 72; time grows with length)
COMMON_PASSWORDS = RANKED_DICTIONARIES["passwords"]  # 30,000 common passwords, lower-case, by rank
_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
_OTHERS = 33  # printable ASCII punctuation and space; any other character counts as one of these
_lock = threading.Lock()


def _estimate(text: str, user_inputs: Iterable[str] = ()) -> dict:
    with _lock:
        return zxcvbn(text[:ZXCVBN_MAX], user_inputs=list(user_inputs))


def is_common(password: str) -> bool:
    """True when the password is on zxcvbn's list of common passwords (any letter case)."""
    return password.lower() in COMMON_PASSWORDS


def is_guessable(password: str, user_inputs: Iterable[str] = ()) -> bool:
    """True when zxcvbn scores the password below 3 (under 10^8 guesses), counting the
    `user_inputs` (the account's email, names) as words a guesser knows. Only the first 64
    characters are scored."""
    return _estimate(password, user_inputs)["score"] < MIN_SCORE


def _alphabet(secret: str) -> int:
    size = sum(len(chars) for chars in _CLASSES if any(c in chars for c in secret))
    return size + (_OTHERS if any(not c.isascii() or not c.isalnum() for c in secret) else 0)


@lru_cache(maxsize=16)
def secret_bits(secret: str) -> float:
    """The estimated strength of a secret key in bits: zxcvbn's guesses for the patterns it finds,
    log2 of the key's alphabet (lower-case, upper-case, digits, others) for each random character."""
    per_character = math.log2(max(_alphabet(secret), 2))
    bits = 0.0
    for start in range(0, len(secret), ZXCVBN_MAX):
        for match in _estimate(secret[start : start + ZXCVBN_MAX])["sequence"]:
            random = match["pattern"] == "bruteforce"
            bits += len(match["token"]) * per_character if random else math.log2(max(match["guesses"], 1))
    return bits
