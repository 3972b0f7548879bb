"""Plaid call pacing shared by every worker and API process: a GCRA limiter in Redis, one key per endpoint.

Redis's own clock decides, so workers on many machines agree. A caller over the limit waits for its slot
instead of failing, so a large daily run slows down rather than hitting RATE_LIMIT_EXCEEDED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from redis.asyncio import Redis

_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - now - burst
if wait > 0 then return wait end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return 0
"""

DEFAULT_PER_MINUTE: dict[str, int] = {
    "investments_holdings_get": 2000,
    "investments_transactions_get": 20000,
    "accounts_get": 15000,
    "item_get": 5000,
}


class RateLimiter:
    def __init__(self, redis: Redis, per_minute: Mapping[str, int], *, prefix: str = "gp:ratelimit") -> None:
        self._redis = redis
        self._per_minute = dict(per_minute)
        self._prefix = prefix
        self._script = redis.register_script(_GCRA)

    async def acquire(self, endpoint: str) -> float:
        """Wait for a slot for ``endpoint``; returns the seconds waited. Endpoints without a limit pass."""
        limit = self._per_minute.get(endpoint)
        if not limit:
            return 0.0
        interval_us = 60_000_000 // limit
        waited = 0.0
        while True:
            wait_us = int(await self._script(keys=[f"{self._prefix}:{endpoint}"], args=[interval_us, 0]))
            if wait_us <= 0:
                return waited
            pause = wait_us / 1_000_000
            waited += pause
            await asyncio.sleep(pause)
