"""Where a job's coroutine runs: on an event loop that outlives the job, with services opened once.

Building Settings, Redis, the Plaid client, the queue and Tortoise for every job (and closing them again) cost
more than a small item's whole sync. A host keeps them: ``HorseHost`` in a long-lived work horse (its own loop,
run by the thread that runs the RQ job), ``LoopThreadHost`` in the embedded demo (the API's loop, in another
thread). A process without a host (a plain RQ worker, a test) builds everything per job, as before.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from ghostfolio_plaid.config import Settings

if TYPE_CHECKING:
    from ghostfolio_plaid.workers.sync import SyncServices

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[["SyncServices"], Awaitable[T]]


class HostInterrupted(RuntimeError):
    """A job's coroutine was left unfinished (a timeout hit the loop): this host must not run another job."""


class JobHost(ABC):
    @abstractmethod
    def run(self, work: Work[T]) -> T:
        """Run ``work(services)`` to its end on the host's loop, from the thread that runs the RQ job."""


class LoopThreadHost(JobHost):
    """Jobs of an RQ worker thread run on a loop served by another thread (the demo's API loop)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, services: SyncServices) -> None:
        self.loop = loop
        self.services = services

    def run(self, work: Work[T]) -> T:
        return asyncio.run_coroutine_threadsafe(_as_coroutine(work(self.services)), self.loop).result()


class HorseHost(JobHost):
    """A work horse's own loop and services, opened at the first job and kept until the horse retires.

    The loop runs only while a job does (``run_until_complete``), in the thread RQ runs jobs in, so RQ's job
    timeout (SIGALRM) still interrupts the job. Services are opened in a base context (Tortoise keeps its state
    in a contextvar); each job runs in a copy of it, so what one job sets in a contextvar (the logged item id,
    a transaction) never leaks into the next. A job whose coroutine is left unfinished (the timeout hit the
    loop itself) taints the host: the horse must retire instead of running more jobs next to a stray task.
    """

    def __init__(self, settings_factory: Callable[[], Settings] | None = None) -> None:
        self._settings_factory = settings_factory or (lambda: Settings.from_env(require_jwt=False))
        self._loop = asyncio.new_event_loop()
        self._base = contextvars.copy_context()
        self._services: SyncServices | None = None
        self.tainted = False

    def run(self, work: Work[T]) -> T:
        if self.tainted:
            raise HostInterrupted("an earlier job was interrupted on this host; it runs no more jobs")
        services = self._services
        if services is None:
            services = self._services = self._complete(open_services(self._settings_factory()), self._base)
        return self._complete(_on_live_connections(work, services), self._base.copy())

    def close(self) -> None:
        """Close the services and the loop; a tainted host only drops them (its loop may hold a stray task)."""
        services, self._services = self._services, None
        if services is not None and not self.tainted:
            self._complete(close_services(services), self._base)
        if not self.tainted:
            self._loop.close()

    def _complete(self, coroutine: Coroutine[Any, Any, T], context: contextvars.Context) -> T:
        task = self._loop.create_task(coroutine, context=context)
        try:
            return self._loop.run_until_complete(task)
        finally:
            if not task.done():
                self.tainted = True
                task.cancel()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _on_live_connections(work: Work[T], services: SyncServices) -> T:
    await drop_dead_connections(services)
    return await work(services)


async def drop_dead_connections(services: SyncServices) -> None:
    """Connections kept between jobs can die meanwhile (a PostgreSQL or Redis restart, a failover, a firewall's
    idle timeout), and the next job would fail on them and wait for RQ's retry. One cheap round trip each before
    a job finds out; a dead pool is dropped, and the job opens fresh connections (as a horse per job did)."""
    import asyncpg
    from tortoise import Tortoise

    client = Tortoise.get_connection("default")
    try:
        await client.execute_query("SELECT 1")
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.OperatorInterventionError, OSError) as exc:
        log.warning("the database connections died while the work horse waited (%s); reconnecting", type(exc).__name__)
        await client.close()
    try:
        await services.redis.ping()
    except RedisConnectionError as exc:
        log.warning("the Redis connections died while the work horse waited (%s); reconnecting", type(exc).__name__)
        await services.redis.connection_pool.disconnect()
    revive_redis(services.queue.redis)


def revive_redis(redis: Redis) -> None:
    """``drop_dead_connections`` for a synchronous Redis client (RQ's, the queue's)."""
    try:
        redis.ping()
    except RedisConnectionError as exc:
        log.warning("the Redis connections died while the work horse waited (%s); reconnecting", type(exc).__name__)
        redis.connection_pool.disconnect()


async def open_services(settings: Settings) -> SyncServices:
    """Everything a sync or push job needs: what a forking worker used to build for every single job."""
    from tortoise import Tortoise

    from ghostfolio_plaid.db import tortoise_config
    from ghostfolio_plaid.job_queue import SyncQueue
    from ghostfolio_plaid.logs import install_redaction
    from ghostfolio_plaid.plaid_client import PlaidClient
    from ghostfolio_plaid.rate_limit import RateLimiter
    from ghostfolio_plaid.redis_connections import async_redis
    from ghostfolio_plaid.workers.sync import SyncServices

    install_redaction(settings.secret_values())
    redis = async_redis(settings.redis_url)
    plaid = PlaidClient(settings, limiter=RateLimiter(redis, settings.rate_limits_per_minute()))
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    return SyncServices(settings, plaid, settings.cipher(), redis, queue)


async def close_services(services: SyncServices) -> None:
    from tortoise import Tortoise

    try:
        await Tortoise.close_connections()
    finally:
        await services.redis.aclose()
        services.queue.close()
        services.plaid.close()


_installed: JobHost | None = None


def install(host: JobHost | None) -> None:
    """Make ``host`` the one this process's jobs run on (a work horse installs its own at birth)."""
    global _installed
    _installed = host


def installed() -> JobHost | None:
    return _installed
