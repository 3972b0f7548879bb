"""Per-user limits on what costs Plaid quota (Link tokens, manual syncs), counted in Redis across processes.

A fixed window per user and action: simple, shared by every API process, and its end is the ``Retry-After``.
If Redis cannot be reached the limit is not enforced (the request still needs Plaid or the queue, which fail
on their own), so an outage of the limiter never locks users out.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from ghostfolio_plaid.errors import RateLimited

log = logging.getLogger(__name__)


class UserLimiter:
    def __init__(self, redis: Redis, limits: dict[str, tuple[int, int]]) -> None:
        """``limits``: action -> (allowed calls, window in seconds); 0 calls switches a limit off."""
        self._redis = redis
        self._limits = limits

    async def check(self, action: str, user_id: str) -> None:
        allowed, window = self._limits.get(action, (0, 0))
        if allowed <= 0:
            return
        bucket = int(time.time()) // window
        key = f"gp:user-limit:{action}:{user_id}:{bucket}"
        try:
            used = await asyncio.to_thread(self._count, key, window)
        except RedisError as exc:
            log.warning("user limit for %s not enforced: %s", action, type(exc).__name__)
            return
        if used > allowed:
            retry_after = window - int(time.time()) % window
            raise RateLimited(
                f"Too many {action.replace('_', ' ')} requests; retry in {retry_after} s", retryAfter=retry_after
            )

    def _count(self, key: str, window: int) -> int:
        pipeline = self._redis.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, window + 5)
        used, _ = pipeline.execute()
        return int(used)
