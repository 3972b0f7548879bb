"""Redis clients from ``REDIS_URL``. ``memory://`` is an in-process Redis (fakeredis) for the embedded demo:
the same queue, lock and limiter code runs on it, only the server differs.
"""

from __future__ import annotations

import fakeredis
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

MEMORY_URL = "memory://"
_memory_server = fakeredis.FakeServer()


def is_memory(url: str) -> bool:
    return url.startswith(MEMORY_URL)


def sync_redis(url: str) -> Redis:
    if is_memory(url):
        return fakeredis.FakeRedis(server=_memory_server)
    return Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def async_redis(url: str) -> AsyncRedis:
    if is_memory(url):
        return fakeredis.FakeAsyncRedis(server=_memory_server)
    return AsyncRedis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
