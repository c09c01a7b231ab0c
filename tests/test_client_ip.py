"""Unit tests of the two building blocks of login rate limiting: the client IP (X-Forwarded-For
trusted only from configured proxies) and the in-memory fixed-window limiter."""

from __future__ import annotations

import pytest

from core.errors import RateLimited
from core.security.ratelimit import MemoryLimiter, enforce
from core.settings import RateLimit, SettingsError, parse_networks
from web.client_ip import client_ip, request_ip

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:ffff::/48")


# ------------------------------------------------------------------ client_ip


def test_untrusted_peer_is_the_client_whatever_it_forwards():
    assert client_ip("198.51.100.7", "203.0.113.1", PROXIES) == "198.51.100.7"
    assert client_ip("198.51.100.7", "203.0.113.1", ()) == "198.51.100.7"
    assert client_ip("10.0.0.1", "203.0.113.1", ()) == "10.0.0.1"
    assert client_ip("198.51.100.7", None, PROXIES) == "198.51.100.7"


def test_trusted_peer_without_forwarded_for_is_the_client():
    assert client_ip("10.0.0.1", None, PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", " , ,", PROXIES) == "10.0.0.1"


def test_trusted_chain_gives_the_right_most_untrusted_address():
    assert client_ip("10.0.0.1", "203.0.113.1", PROXIES) == "203.0.113.1"
    # The left-most entries are whatever the client claimed: only the hop our proxies saw counts.
    assert client_ip("10.0.0.1", "1.1.1.1, 203.0.113.1", PROXIES) == "203.0.113.1"
    assert client_ip("10.0.0.1", "1.1.1.1, 203.0.113.1, 10.0.0.3 ,10.9.9.9", PROXIES) == "203.0.113.1"
    assert client_ip("2001:db8:ffff::1", "2001:db8:1::42, 2001:db8:ffff::2", PROXIES) == "2001:db8:1::42"


def test_chain_of_only_trusted_proxies_gives_the_left_most():
    assert client_ip("10.0.0.1", "10.0.0.7, 10.0.0.8", PROXIES) == "10.0.0.7"


def test_garbage_entries_never_become_the_client_ip():
    # Garbage where the client address should be: fall back to the last address a trusted hop gave.
    assert client_ip("10.0.0.1", "not-an-ip", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "203.0.113.1:4711", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "[2001:db8::1]", PROXIES) == "10.0.0.1"
    assert client_ip("10.0.0.1", "203.0.113.1, garbage, 10.0.0.2", PROXIES) == "10.0.0.2"
    # Garbage left of the right-most untrusted address is never looked at.
    assert client_ip("10.0.0.1", "garbage, <script>, 203.0.113.1", PROXIES) == "203.0.113.1"


def test_unknown_or_garbage_peer():
    assert client_ip(None, "203.0.113.1", PROXIES) == "unknown"
    assert client_ip("not-an-ip", "203.0.113.1", PROXIES) == "not-an-ip"


def test_request_ip_reads_the_asgi_scope_and_joins_repeated_headers():
    scope = {
        "client": ("10.0.0.1", 50000),
        "headers": [(b"x-forwarded-for", b"1.1.1.1, 203.0.113.1"), (b"x-forwarded-for", b"10.0.0.2")],
    }
    assert request_ip(scope, PROXIES) == "203.0.113.1"
    assert request_ip(scope, ()) == "10.0.0.1"
    assert request_ip({"headers": []}, PROXIES) == "unknown"


def test_trusted_proxies_setting_refuses_garbage():
    assert parse_networks(" 127.0.0.1 , ::1,,10.1.2.3/8") == parse_networks("127.0.0.1/32,::1/128,10.0.0.0/8")
    with pytest.raises(SettingsError, match="nope"):
        parse_networks("127.0.0.1, nope")


# ------------------------------------------------------------------ MemoryLimiter


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_limiter_allows_up_to_the_limit_and_says_when_the_window_resets():
    clock = FakeClock(1000.0)
    limiter = MemoryLimiter(clock=clock)
    rule = RateLimit(3, 60)
    assert [await limiter.hit("k", rule) for _ in range(3)] == [None, None, None]
    # A key's window starts at its first attempt: this one ends at 1060.
    assert await limiter.hit("k", rule) == pytest.approx(60.0)
    clock.now = 1055.0
    assert await limiter.hit("k", rule) == pytest.approx(5.0)


async def test_limiter_counts_every_attempt_including_refused_ones():
    clock = FakeClock(1200.0)
    limiter = MemoryLimiter(clock=clock)
    rule = RateLimit(2, 60)
    results = [await limiter.hit("k", rule) for _ in range(6)]
    assert results[:2] == [None, None] and all(r is not None for r in results[2:])
    # Refused attempts still counted: waiting part of the window does not free a slot.
    clock.now = 1259.0
    assert await limiter.hit("k", rule) == pytest.approx(1.0)


async def test_limiter_window_resets():
    clock = FakeClock(1200.0)
    limiter = MemoryLimiter(clock=clock)
    rule = RateLimit(2, 60)
    for _ in range(5):
        await limiter.hit("k", rule)
    clock.now = 1260.0
    assert [await limiter.hit("k", rule) for _ in range(3)] == [None, None, pytest.approx(60.0)]
    # A later window (skipping several) starts from zero too.
    clock.now = 1600.0
    assert await limiter.hit("k", rule) is None


async def test_limiter_keys_are_independent():
    limiter = MemoryLimiter(clock=FakeClock())
    rule = RateLimit(1, 60)
    assert await limiter.hit("staff-login:ip:203.0.113.1", rule) is None
    assert await limiter.hit("staff-login:ip:203.0.113.1", rule) is not None
    assert await limiter.hit("staff-login:ip:203.0.113.2", rule) is None
    assert await limiter.hit("staff-login:account:a@b.example", rule) is None


async def test_limiter_forgets_expired_keys_when_full_but_keeps_live_counts():
    clock = FakeClock(0.0)
    limiter = MemoryLimiter(clock=clock, max_keys=2)
    rule = RateLimit(1, 60)
    await limiter.hit("old", rule)  # window ends at 60
    clock.now = 70.0
    await limiter.hit("live", rule)  # window ends at 120
    assert await limiter.hit("new", rule) is None  # full: the expired "old" makes room
    assert await limiter.hit("live", rule) is not None
    assert await limiter.hit("new", rule) is not None
    assert await limiter.hit("old", rule) is None


async def test_enforce_raises_rate_limited_with_whole_seconds_to_wait():
    clock = FakeClock(100.0)
    limiter = MemoryLimiter(clock=clock)
    rule = RateLimit(1, 60)
    await enforce(limiter, "k", rule)
    clock.now = 140.2
    with pytest.raises(RateLimited) as refused:
        await enforce(limiter, "k", rule)
    assert refused.value.retry_after == 20  # 19.8 s rounded up
    assert "20 seconds" in refused.value.message


def test_ipv6_clients_are_limited_per_64_network():
    from core.security.ratelimit import ip_key

    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("203.0.113.7") == "203.0.113.7"
    assert ip_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert ip_key("unknown") == "unknown"


def test_attempts_at_accounts_and_links_count_per_client_network():
    from core.security.ratelimit import client_network

    assert client_network("203.0.113.7") == client_network("203.0.113.250") == "203.0.113.0/24"
    assert client_network("::ffff:203.0.113.7") == "203.0.113.0/24"
    assert client_network("203.0.114.7") != client_network("203.0.113.7")
    assert client_network("2001:db8:1:2:aaaa::1") == client_network("2001:db8:1:2::9") == "2001:db8:1:2::/64"
    assert client_network("unknown") == "unknown"
