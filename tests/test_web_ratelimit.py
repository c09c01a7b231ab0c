"""Rate limits: the in-memory and Redis limiters (same contract), the page helper `limited`
(per client IP, trusting only configured proxies, 429 page with Retry-After), and the app's choice
of limiter. Redis tests use the real server on 127.0.0.1:6379 under a prefix unique to the run."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from conftest import REDIS_PREFIX, REDIS_URL, TEST_SECRET, make_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app import create_app
from core.security.ratelimit import MemoryLimiter, RedisLimiter
from core.settings import RateLimit, Settings, SettingsError, parse_networks
from web.ratelimit import limited

PREFIX = REDIS_PREFIX


class Clock:
    def __init__(self, now: float = 1_200_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request):
    """Limiters of one kind on a shared fake clock; Redis ones share one server and a per-test prefix."""
    made = []

    def make(clock: Clock):
        if request.param == "memory":
            return MemoryLimiter(clock=clock)
        limiter = RedisLimiter.from_url(redis, TEST_SECRET, prefix=f"{PREFIX}{request.node.name}:")
        limiter._clock = clock
        made.append(limiter)
        return limiter

    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None
    yield make
    for limiter in made:
        await limiter.aclose()


async def test_allows_the_limit_then_refuses_until_the_window_ends(make_limiter):
    clock = Clock(1_200_000.0)  # a multiple of the window: the window starts now
    limiter, rule = make_limiter(clock), RateLimit(3, 60)
    assert [await limiter.hit("login:ada", rule) for _ in range(3)] == [None, None, None]
    clock.now += 15
    assert await limiter.hit("login:ada", rule) == pytest.approx(45)
    assert await limiter.hit("login:ada", rule) == pytest.approx(45)  # refused attempts count too
    assert await limiter.hit("login:bob", rule) is None  # keys are independent
    clock.now += 45  # the next window
    assert await limiter.hit("login:ada", rule) is None


async def test_every_attempt_counts_even_when_they_race(make_limiter):
    limiter, rule = make_limiter(Clock()), RateLimit(10, 60)
    results = await asyncio.gather(*(limiter.hit("race", rule) for _ in range(50)))
    assert sum(r is None for r in results) == 10


async def test_redis_counts_are_shared_between_limiters(redis_url):
    """Two limiters with their own connections (as two server processes) count the same attempts."""
    prefix = f"{PREFIX}shared:"
    clock = Clock()
    first, second = (
        RedisLimiter.from_url(redis_url, TEST_SECRET, prefix=prefix),
        RedisLimiter.from_url(redis_url, TEST_SECRET, prefix=prefix),
    )
    first._clock = second._clock = clock
    rule = RateLimit(4, 30)
    try:
        outcomes = [await (first if i % 2 else second).hit("ip:203.0.113.9", rule) for i in range(6)]
        assert [o is None for o in outcomes] == [True, True, True, True, False, False]
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        assert len(keys) == 1 and 0 < await client.pttl(keys[0]) <= 31_000  # the counter expires with its window
        await client.aclose()
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_keys_name_an_hmac_of_what_they_count_never_the_token_or_email(redis_url):
    prefix = f"{PREFIX}hashed:"
    limiter, other_key = (
        RedisLimiter.from_url(redis_url, TEST_SECRET, prefix=prefix),
        RedisLimiter.from_url(redis_url, "x" * 48, prefix=prefix),
    )
    token, rule = "Xq3" + "a" * 40, RateLimit(1, 60)
    try:
        await limiter.hit(f"action-link:token:{token}:net:203.0.113.0/24", rule)
        await limiter.hit("portal-login:account:1:ada@example.com", rule)
        await other_key.hit("portal-login:account:1:ada@example.com", rule)  # another secret key: another name
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        names = [k.decode() async for k in client.scan_iter(match=prefix + "*")]
        await client.aclose()
        assert len(names) == 3 and all(re.fullmatch(rf"{re.escape(prefix)}[0-9a-f]{{64}}:60:\d+", n) for n in names), (
            names
        )
        assert not any(secret in n for n in names for secret in (token, "ada@example.com", "203.0.113", "action-link"))
    finally:
        await limiter.aclose()
        await other_key.aclose()


async def test_redis_failure_raises_instead_of_letting_attempts_through():
    limiter = RedisLimiter.from_url("redis://127.0.0.1:1/0", TEST_SECRET, prefix=PREFIX, timeout=0.5)
    try:
        with pytest.raises(Exception) as caught:
            await limiter.hit("x", RateLimit(1, 60))
        assert "onnect" in str(caught.value) or "refused" in str(caught.value).lower()
    finally:
        await limiter.aclose()


# ------------------------------------------------------------------ the app's choice


def test_redis_url_setting():
    assert Settings.from_env({}).redis_url == ""
    assert Settings.from_env({"AGENDUM_REDIS_URL": " redis://cache:6379/2 "}).redis_url == "redis://cache:6379/2"
    with pytest.raises(SettingsError, match="AGENDUM_REDIS_URL"):
        Settings.from_env({"AGENDUM_REDIS_URL": "http://cache:6379"})


def test_create_app_uses_redis_when_configured():
    assert isinstance(create_app(make_settings("sqlite://:memory:")).state.limiter, MemoryLimiter)
    app = create_app(make_settings("sqlite://:memory:", redis_url=REDIS_URL))
    assert isinstance(app.state.limiter, RedisLimiter)


# ------------------------------------------------------------------ web.ratelimit.limited

RULE = RateLimit(2, 60)


async def attempt(request: Request):
    refused = await limited(request, "test-link", RULE)
    return refused or PlainTextResponse("ok")


def page_app(limiter, trusted: str = "") -> Starlette:
    app = Starlette(routes=[Route("/try", attempt)])
    app.state.settings = Settings(secret_key=TEST_SECRET, trusted_proxies=parse_networks(trusted))
    app.state.limiter = limiter
    return app


def client(app: Starlette, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 5555)), base_url="http://testserver")


@pytest.mark.parametrize("kind", ["memory", "redis"])
async def test_limited_counts_per_client_ip_and_answers_the_429_page(kind, request):
    limiter = (
        MemoryLimiter()
        if kind == "memory"
        else RedisLimiter.from_url(
            request.getfixturevalue("redis_url"), TEST_SECRET, prefix=f"{PREFIX}{request.node.name}:"
        )
    )
    app = page_app(limiter, trusted="10.0.0.0/8")
    try:
        async with client(app, "198.51.100.7") as http:
            assert [(await http.get("/try")).status_code for _ in range(2)] == [200, 200]
            refused = await http.get("/try")
            assert refused.status_code == 429
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert refused.headers["content-type"].startswith("text/html")
            assert refused.headers["cache-control"] == "no-store"
            assert "Too many attempts" in refused.text
            # A forged X-Forwarded-For from an untrusted peer changes nothing: still the same client.
            assert (await http.get("/try", headers={"x-forwarded-for": "192.0.2.1"})).status_code == 429
        async with client(app, "198.51.100.8") as http:  # another client has its own count
            assert (await http.get("/try")).status_code == 200
        async with client(app, "10.1.2.3") as proxy:  # behind the trusted proxy: per forwarded client
            assert (await proxy.get("/try", headers={"x-forwarded-for": "203.0.113.5"})).status_code == 200
            assert (await proxy.get("/try", headers={"x-forwarded-for": "203.0.113.5"})).status_code == 200
            assert (await proxy.get("/try", headers={"x-forwarded-for": "203.0.113.5"})).status_code == 429
            assert (await proxy.get("/try", headers={"x-forwarded-for": "203.0.113.6"})).status_code == 200
        async with client(app, "2001:db8:1:2::1") as v6, client(app, "2001:db8:1:2::ffff") as same_64:
            assert (await v6.get("/try")).status_code == 200
            assert (await same_64.get("/try")).status_code == 200
            assert (await v6.get("/try")).status_code == 429  # one /64 is one client
    finally:
        if kind == "redis":
            await limiter.aclose()
