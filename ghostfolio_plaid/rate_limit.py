"""Plaid call pacing shared by every worker and API process: a GCRA limiter in Redis, per client and per item.

Plaid limits each endpoint per client (all our calls) and per item (one user's login): holdings 2,000/min per
client but 15/min per item, investment transactions 20,000 and 30, and so on. Both hold across every worker
only if they are counted in one place, so each limit is a GCRA key in Redis, and Redis's own clock decides,
so workers on many machines agree. A call takes a slot from its endpoint's client key and, when it concerns
an item, from that item's key, in one atomic step: either both are free and both are taken, or the call waits
(nothing is taken while it waits, so a call waiting for its item never holds a client slot it does not use).
A caller over a limit waits for its slot instead of failing, so a large daily run slows down rather than
hitting RATE_LIMIT_EXCEEDED. Per-item keys expire a second after their slot, so 10,000 items leave no keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from redis.asyncio import Redis

_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  tats[i] = tat
  if tat - now > wait then wait = tat - now end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local next_slot = tats[i] + tonumber(ARGV[i])
  redis.call('SET', key, next_slot, 'PX', math.ceil((next_slot - now) / 1000) + 1000)
end
return 0
"""

PER_ITEM = "item:"
"""Prefix of a per-item limit's name in the limits mapping (and in ``PLAID_RATE_LIMITS``)."""

DEFAULT_PER_MINUTE: dict[str, int] = {
    "investments_holdings_get": 2000,
    "investments_transactions_get": 20000,
    "accounts_get": 15000,
    "item_get": 5000,
    PER_ITEM + "investments_holdings_get": 15,
    PER_ITEM + "investments_transactions_get": 30,
    PER_ITEM + "accounts_get": 15,
    PER_ITEM + "item_get": 15,
}
"""Plaid's documented production limits per minute: per client, and per item (``item:`` names)."""


class RateLimiter:
    def __init__(self, redis: Redis, per_minute: Mapping[str, int], *, prefix: str = "gp:ratelimit") -> None:
        self._redis = redis
        self._per_minute = dict(per_minute)
        self._prefix = prefix
        self._script = redis.register_script(_GCRA)

    def keys(self, endpoint: str, item: str | None = None) -> list[tuple[str, int]]:
        """The Redis keys a call takes a slot from, each with its interval in microseconds."""
        keys = []
        client_limit = self._per_minute.get(endpoint)
        if client_limit:
            keys.append((f"{self._prefix}:{endpoint}", 60_000_000 // client_limit))
        item_limit = self._per_minute.get(PER_ITEM + endpoint)
        if item is not None and item_limit:
            keys.append((f"{self._prefix}:item:{item}:{endpoint}", 60_000_000 // item_limit))
        return keys

    async def acquire(self, endpoint: str, item: str | None = None) -> float:
        """Wait for a slot for ``endpoint`` (and for ``item``'s own slot, given its key); returns the seconds
        waited. Endpoints without a limit pass at once."""
        keys = self.keys(endpoint, item)
        if not keys:
            return 0.0
        names, intervals = [name for name, _ in keys], [interval for _, interval in keys]
        waited = 0.0
        while True:
            wait_us = int(await self._script(keys=names, args=intervals))
            if wait_us <= 0:
                return waited
            pause = wait_us / 1_000_000
            waited += pause
            await asyncio.sleep(pause)
