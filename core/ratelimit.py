"""Rate limits: keyed fixed-window counters. Every attempt counts, allowed or not."""

from __future__ import annotations

import ipaddress
import time
from typing import Protocol

from core.errors import RateLimited
from core.settings import RateLimit


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

    One key per (key, window length, window number): INCR and PEXPIRE run in one MULTI/EXEC, so a
    counter never outlives its window by more than a second. Windows start on multiples of their
    length in wall-clock time, so every process agrees on them. A Redis failure raises: attempts
    are never let through uncounted."""

    def __init__(self, client, prefix: str = "agendum:ratelimit:", clock=time.time) -> None:
        self._redis = client
        self._prefix = prefix
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, prefix: str = "agendum:ratelimit:", timeout: float = 2.0) -> "RedisLimiter":
        """A limiter on the Redis server at `url` (connects on first use)."""
        from redis.asyncio import Redis

        return cls(Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout), prefix)

    async def hit(self, key: str, rule: RateLimit) -> float | None:
        """Count one attempt; None when allowed, else seconds until the window resets."""
        now = self._clock()
        window = int(now // rule.window)
        resets_at = (window + 1) * rule.window
        name = f"{self._prefix}{key}:{rule.window:g}:{window}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.pexpire(name, int((resets_at - now) * 1000) + 1000)
            count, _ = await pipe.execute()
        return resets_at - now if count > rule.limit else None

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        await self._redis.aclose()


def limiter_for(redis_url: str) -> Limiter:
    """The limiter for these settings: Redis when a URL is given, else this process's memory."""
    return RedisLimiter.from_url(redis_url) if redis_url else MemoryLimiter()


def ip_key(ip: str) -> str:
    """The rate-limit key of a client address: IPv6 clients are counted per /64 network, since one
    subscriber usually holds a whole /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


async def enforce(limiter: Limiter, key: str, rule: RateLimit) -> None:
    """Count one attempt under `key`; raise `RateLimited` when over the limit."""
    retry_after = await limiter.hit(key, rule)
    if retry_after is not None:
        raise RateLimited(retry_after)
