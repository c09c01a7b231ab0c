"""Rate limits: keyed fixed-window counters. Every attempt counts, allowed or not.

Attempts at an account or a link count per client network (`client_network`: /24, /64), so a
stranger elsewhere cannot lock out its owner, and under a higher ceiling from every network
together, against guessing spread over many networks (`count_account_attempt`,
`count_link_attempt`). Keys name tokens, emails and addresses: Redis only ever holds their keyed
hash (`core.security.tokens.keyed_hash`)."""

from __future__ import annotations

import ipaddress
import time
from typing import Protocol

from core.errors import RateLimited
from core.security.tokens import keyed_hash
from core.settings import RateLimit, Settings


class Limiter(Protocol):
    """Counts attempts per key; answers how long to wait when over the limit."""

    async def hit(self, key: str, rule: RateLimit) -> float | None:
        """Count one attempt; None when allowed, else seconds until the window resets."""


class MemoryLimiter:
    """Counters in this process's memory (one server process, or tests)."""

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._counters: dict[str, tuple[float, int]] = {}  # key -> (window end, attempts)

    async def hit(self, key: str, rule: RateLimit) -> float | None:
        """Count one attempt; None when allowed, else seconds until the window resets."""
        now = self._clock()
        resets_at, count = self._counters.get(key, (0.0, 0))
        if resets_at <= now:
            resets_at, count = now + rule.window, 0  # a key's window starts at its first attempt
            if len(self._counters) >= self._max_keys:
                self._counters = {k: v for k, v in self._counters.items() if v[0] > now}
        self._counters[key] = (resets_at, count + 1)
        return resets_at - now if count + 1 > rule.limit else None


class RedisLimiter:
    """Counters in Redis, shared by every process and host that serves (`AGENDUM_REDIS_URL`).

    One Redis key per (key, window length, window number), named by the key's HMAC under `secret`
    (the secret key), never by the key itself: keys name tokens, emails and addresses. INCR and
    PEXPIRE run in one MULTI/EXEC, so a counter never outlives its window by more than a second.
    Windows start on multiples of their length in wall-clock time, so every process agrees on them.
    A Redis failure raises: attempts are never let through uncounted."""

    def __init__(self, client, secret: str, prefix: str = "agendum:ratelimit:", clock=time.time) -> None:
        self._redis = client
        self._secret = secret
        self._prefix = prefix
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, secret: str, prefix: str = "agendum:ratelimit:", timeout: float = 2.0) -> RedisLimiter:
        """A limiter on the Redis server at `url` (connects on first use)."""
        from redis.asyncio import Redis

        return cls(Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout), secret, prefix)

    async def hit(self, key: str, rule: RateLimit) -> float | None:
        """Count one attempt; None when allowed, else seconds until the window resets."""
        now = self._clock()
        window = int(now // rule.window)
        resets_at = (window + 1) * rule.window
        name = f"{self._prefix}{keyed_hash(self._secret, 'ratelimit', key)}:{rule.window:g}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int((resets_at - now) * 1000) + 1000)
            count, _ = await pipe.execute()
        return resets_at - now if count > rule.limit else None

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        await self._redis.aclose()


def limiter_for(redis_url: str, secret: str) -> Limiter:
    """The limiter for these settings: Redis when a URL is given (its keys hashed with `secret`),
    else this process's memory."""
    return RedisLimiter.from_url(redis_url, secret) if redis_url else MemoryLimiter()


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return (address.ipv4_mapped or address) if address.version == 6 else address


def client_network(ip: str) -> str:
    """The network of a client address, as attempts at accounts and links are counted: its /24
    for IPv4 (IPv4-mapped IPv6 alike), its /64 for IPv6; anything unparseable as given."""
    address = _address(ip)
    if address is None:
        return ip
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def ip_key(ip: str) -> str:
    """The rate-limit key of a client address: IPv6 clients are counted per /64 network, since one
    subscriber usually holds a whole /64."""
    address = _address(ip)
    if address is None:
        return ip
    return str(address) if address.version == 4 else client_network(ip)


async def enforce(limiter: Limiter, key: str, rule: RateLimit, reason: str = RateLimited.FROM_YOUR_NETWORK) -> None:
    """Count one attempt under `key`; raise `RateLimited` (with `reason`) when over the limit."""
    retry_after = await limiter.hit(key, rule)
    if retry_after is not None:
        raise RateLimited(retry_after, reason)


async def _count_attempt(
    limiter: Limiter,
    kind: str,
    key: str,
    client_ip: str,
    per_ip: RateLimit,
    per_network: RateLimit,
    ceiling: RateLimit,
    held: str,
) -> None:
    await enforce(limiter, f"{kind}:ip:{ip_key(client_ip)}", per_ip)
    await enforce(limiter, f"{kind}:{key}:net:{client_network(client_ip)}", per_network)
    await enforce(limiter, f"{kind}:{key}", ceiling, held)


async def count_account_attempt(limiter: Limiter, settings: Settings, kind: str, account: str, client_ip: str) -> None:
    """Count an attempt (`kind`, e.g. staff-login) at an account (its email, made unique) from a
    client: per client IP, per account and client network, then per account from every network
    (the ceiling). `RateLimited` at the first limit over; an attempt its network's limits refuse
    never reaches the ceiling, so one network cannot lock the owner out from another."""
    await _count_attempt(
        limiter,
        kind,
        f"account:{account}",
        client_ip,
        settings.login_limit_per_ip,
        settings.login_limit_per_account,
        settings.login_ceiling_per_account,
        RateLimited.AT_THIS_ACCOUNT,
    )


async def count_link_attempt(limiter: Limiter, settings: Settings, kind: str, token: str, client_ip: str) -> None:
    """Count an attempt (`kind`, e.g. action-link) at a link token from a client, whatever the
    outcome: per client IP, per token and client network, then per token from every network (the
    ceiling), as `count_account_attempt` does for accounts."""
    await _count_attempt(
        limiter,
        kind,
        f"token:{str(token)[:64]}",
        client_ip,
        settings.link_limit_per_ip,
        settings.link_limit_per_token,
        settings.link_ceiling_per_token,
        RateLimited.AT_THIS_LINK,
    )
