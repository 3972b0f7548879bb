"""``ghostfolio-plaid sync ITEM_ID [--wait | --inline]``: start a sync and watch its progress from a terminal.

Without options the sync is queued for a worker; ``--wait`` also watches it. ``--inline`` runs it in this
process and queues nothing, so that no worker picks the same job up. While it runs, RQ holds a record of a
*started* job under the SyncJob's id (never on the queue): the job queue then counts the sync as pending like
any running one, and as abandoned once its item lock and this record expire if the process dies.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from typing import TextIO

from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import Conflict, DomainError, Unavailable
from ghostfolio_plaid.job_queue import REVOKED, SYNC_JOB_FUNCTION, SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.rate_limit import RateLimiter
from ghostfolio_plaid.redis_connections import async_redis
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync

BAR_WIDTH = 30
FINISHED = (SyncStatus.SUCCEEDED, SyncStatus.FAILED)


def progress_line(job: SyncJob) -> str:
    total = job.transactions_total
    if not total:
        bar, counts = "." * BAR_WIDTH, f"{job.transactions_fetched} transactions"
    else:
        done = min(BAR_WIDTH, BAR_WIDTH * job.transactions_fetched // total)
        bar, counts = "#" * done + "." * (BAR_WIDTH - done), f"{job.transactions_fetched}/{total} transactions"
    return f"[{bar}] {counts} {job.status.value}"


async def find_item(reference: str) -> PlaidItem | None:
    """Our id (a UUID) or Plaid's item_id."""
    try:
        return await PlaidItem.get_or_none(id=uuid.UUID(reference))
    except ValueError:
        return await PlaidItem.get_or_none(item_id=reference)


async def watch(job_id: str, out: TextIO, interval: float = 0.5) -> SyncJob:
    while True:
        job = await SyncJob.get(id=job_id)
        out.write("\r" + progress_line(job))
        out.flush()
        if job.status in FINISHED:
            out.write("\n")
            return job
        await asyncio.sleep(interval)


class RunningHere:
    """RQ's record of a job started by this process (not queued), kept alive while the sync runs."""

    def __init__(self, queue: SyncQueue, job_id: str, ttl_seconds: int) -> None:
        self.queue = queue
        self.job_id = job_id
        self.ttl_seconds = ttl_seconds
        self.key = Job.key_for(job_id)

    async def mark(self) -> None:
        def save() -> None:
            job = Job.create(
                SYNC_JOB_FUNCTION,
                args=[self.job_id],
                id=self.job_id,
                connection=self.queue.redis,
                status=JobStatus.STARTED,
                origin=self.queue.queue.name,
                description="run by `ghostfolio-plaid sync --inline`",
            )
            job.save()
            self.queue.redis.expire(self.key, self.ttl_seconds)

        await self._redis(save)

    async def keep(self) -> None:
        """Renew the record until cancelled (a third of its lifetime apart)."""
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            await self._redis(lambda: self.queue.redis.expire(self.key, self.ttl_seconds))

    async def forget(self) -> None:
        await self._redis(lambda: self.queue.redis.delete(self.key))

    @staticmethod
    async def _redis(call: Callable[[], object]) -> None:
        try:
            await asyncio.to_thread(call)
        except RedisError:
            raise Unavailable("The job queue is unavailable; try again later") from None


async def start_here(queue: SyncQueue, item: PlaidItem, ttl_seconds: int) -> tuple[SyncJob, RunningHere]:
    """The SyncJob of a sync this process runs itself: marked as started in RQ first, then created."""
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected and cannot be synced")
    if item.error in REVOKED:
        raise Conflict("Access to this PlaidItem was revoked at the institution; link it again")
    running = RunningHere(queue, str(uuid.uuid4()), ttl_seconds)
    await running.mark()
    try:
        job = await SyncJob.create(id=running.job_id, plaid_item=item, trigger=SyncTrigger.MANUAL)
    except IntegrityError:
        await running.forget()
        raise Conflict("A sync of this PlaidItem is already queued or running") from None
    return job, running


async def run_here(settings: Settings, queue: SyncQueue, job: SyncJob, running: RunningHere, out: TextIO) -> SyncJob:
    """Run the sync in this process (as a worker would, on its final attempt) while showing its progress."""
    redis = async_redis(settings.redis_url)
    plaid = PlaidClient(settings, limiter=RateLimiter(redis, settings.rate_limits_per_minute()))
    services = SyncServices(settings, plaid, settings.cipher(), redis, queue)
    watcher = asyncio.create_task(watch(str(job.id), out))
    keeper = asyncio.create_task(running.keep())
    try:
        await execute_sync(services, str(job.id))
        return await watcher
    finally:
        watcher.cancel()
        keeper.cancel()
        await running.forget()
        await redis.aclose()
        plaid.close()


async def run(settings: Settings, reference: str, *, wait: bool, inline: bool, out: TextIO = sys.stderr) -> int:
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        item = await find_item(reference)
        if item is None:
            out.write(f"no Plaid item {reference}\n")
            return 2
        try:
            if inline:
                job, running = await start_here(queue, item, settings.sync_lock_seconds)
                print(job.id, flush=True)
                job = await run_here(settings, queue, job, running, out)
            else:
                job = await request_sync(queue, item, SyncTrigger.MANUAL)
                print(job.id, flush=True)
                if not wait:
                    return 0
                job = await watch(str(job.id), out)
        except DomainError as exc:
            out.write(f"{exc.message}\n")
            return 1
        if job.status != SyncStatus.SUCCEEDED:
            out.write(f"sync failed: {job.error}\n")
            return 1
        out.write(
            f"created {job.activities_created}, updated {job.activities_updated}, removed {job.activities_removed} "
            f"activities; {job.holdings_seen} holdings\n"
        )
        return 0
    finally:
        await Tortoise.close_connections()
        queue.close()
